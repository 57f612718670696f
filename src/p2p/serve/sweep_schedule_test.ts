import { assertEquals, assertThrows } from "@std/assert";
import { SweepSchedule } from "./sweep_schedule.ts";

const H = 3600_000;

function hashes(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const h = new Uint8Array(32);
    new DataView(h.buffer).setUint32(0, i * 2654435761);
    return h;
  });
}

Deno.test("SweepSchedule: new keys are taken once, as a batch; duplicates are ignored", () => {
  const s = new SweepSchedule({ intervalMs: 12 * H, start: 0 });
  const [a, b] = hashes(2);
  assertEquals(s.add(a!)?.sentAt, -Infinity);
  assertEquals(s.add(a!), undefined);
  s.add(b!);
  assertEquals(s.takeFresh().length, 2);
  assertEquals(s.takeFresh(), []);
  assertEquals(s.size, 2);
});

Deno.test("SweepSchedule: one pass per interval covers every key once, in keyspace order", () => {
  const s = new SweepSchedule({ intervalMs: 12 * H, start: 0 });
  for (const h of hashes(200)) s.add(h);
  s.takeFresh();
  const seen: number[] = [];
  // A tick per hour: each takes the keys the cursor passed (here none was sent yet).
  for (let t = H; t <= 12 * H; t += H) {
    const due = s.due(t);
    const from = s.cursorAt(t - H);
    for (const k of due) {
      // In the stretch the cursor passed ([from, to), wrapping at the end).
      const to = t === 12 * H ? 1 : s.cursorAt(t);
      assertEquals(
        k.position >= from && k.position < to,
        true,
        `${k.position} in [${from}, ${to})`,
      );
      seen.push(k.position);
    }
    assertEquals(due.map((k) => k.position), [...due.map((k) => k.position)].sort((a, b) => a - b));
    s.markSent(due, t);
  }
  assertEquals(seen.length, 200);
  // The next pass sends them again (all were sent ≥ half an interval before their turn comes back).
  let again = 0;
  for (let t = 13 * H; t <= 24 * H; t += H) again += s.due(t).length;
  assertEquals(again, 200);
});

Deno.test("SweepSchedule: a key sent less than half an interval ago waits for the next pass", () => {
  const s = new SweepSchedule({ intervalMs: 12 * H, start: 0 });
  for (const h of hashes(100)) s.add(h);
  const fresh = s.takeFresh();
  s.markSent(fresh, 0); // announced at once as new
  // The first pass, an hour at a time: keys the cursor reaches before 6 h were sent < 6 h ago.
  const first = [];
  for (let t = H; t <= 12 * H; t += H) {
    const due = s.due(t);
    for (const k of due) assertEquals(k.position * 12 * H >= 5 * H, true, `${k.position}`);
    s.markSent(due, t);
    first.push(...due);
  }
  // Whatever the first pass skipped is due in the second: no key goes 1.5 intervals without a send.
  const skipped = [...s.keys()].filter((k) => k.sentAt === 0).map((k) => k.hex).sort();
  const second = new Set<string>();
  for (let t = 13 * H; t <= 18 * H; t += H) for (const k of s.due(t)) second.add(k.hex);
  for (const hex of skipped) assertEquals(second.has(hex), true, hex);
  assertEquals(first.length + skipped.length, 100);
  assertEquals(first.length > 0 && skipped.length > 0, true);
});

Deno.test("SweepSchedule: removed keys are never due; a key taken as new is not due in the same call", () => {
  const s = new SweepSchedule({ intervalMs: 1000, start: 0 });
  const [a, b] = hashes(2);
  s.add(a!);
  s.takeFresh();
  const kb = s.add(b!)!;
  assertEquals(s.due(2000).map((k) => k.hex), [s.get(s.keys().next().value!.hex)!.hex]);
  assertEquals(s.remove(kb.hex), true);
  assertEquals(s.takeFresh(), []);
  assertEquals(s.remove(kb.hex), false);
  s.markFresh(s.keys().next().value!.hex);
  assertEquals(s.takeFresh().length, 1);
  assertThrows(() => new SweepSchedule({ intervalMs: 0, start: 0 }), RangeError);
});
