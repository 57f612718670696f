import { assertEquals } from "@std/assert";
import { ProviderStore, type ProviderStoreOptions } from "./provider_store.ts";

function store(o: Partial<ProviderStoreOptions> = {}) {
  let now = 1_000_000;
  const s = new ProviderStore({
    self: "self",
    maxRecords: 100,
    maxPerPeer: 10,
    ratePerSecond: 10,
    burst: 20,
    validityMs: 60_000,
    now: () => now,
    ...o,
  });
  return { s, tick: (ms: number) => (now += ms), now: () => now };
}

function put(s: ProviderStore, key: string, peer: string, time: number) {
  const a = s.admit(peer);
  return a.ok ? s.add(key, peer, time) : a;
}

Deno.test("ProviderStore: one peer holds at most maxPerPeer records; our own are unlimited", () => {
  const { s, now } = store();
  for (let i = 0; i < 15; i++) put(s, `k${i}`, "p1", now());
  for (let i = 0; i < 50; i++) put(s, `k${i}`, "self", now());
  assertEquals(s.stats().records, 10 + 50);
  assertEquals(s.stats().refused["peer-quota"], 5);
  assertEquals(s.providers("k3").sort(), [["p1", now()], ["self", now()]]);
  // A refresh of a record it holds is not a new record.
  assertEquals(put(s, "k3", "p1", now() + 1), { ok: true });
});

Deno.test("ProviderStore: all other peers together hold at most maxRecords; expired ones go first", () => {
  const { s, now, tick } = store({ maxRecords: 30, maxPerPeer: 10 });
  for (let p = 0; p < 4; p++) for (let i = 0; i < 10; i++) put(s, `k${p}-${i}`, `p${p}`, now());
  assertEquals(s.stats().records, 30);
  assertEquals(s.stats().refused["total-quota"], 10);
  tick(61_000);
  assertEquals(put(s, "fresh", "p3", now()), { ok: true });
  assertEquals(s.stats().records, 1);
});

Deno.test("ProviderStore: past the burst a peer waits for tokens; flooding many at once is refused and reported", () => {
  const { s, tick } = store({ burst: 5, ratePerSecond: 10, maxWaitMs: 500, abuseEvery: 3 });
  for (let i = 0; i < 5; i++) assertEquals(s.admit("p"), { ok: true, waitMs: 0 });
  // The 6th waits 100 ms, the 10th 500 ms, the 11th would wait 600 ms: refused.
  assertEquals(s.admit("p"), { ok: true, waitMs: 100 });
  for (let i = 0; i < 3; i++) s.admit("p");
  const tenth = s.admit("p");
  assertEquals(tenth.ok && Math.round(tenth.waitMs), 500);
  assertEquals(s.admit("p"), { ok: false, reason: "rate", abuse: false });
  assertEquals(s.admit("p"), { ok: false, reason: "rate", abuse: false });
  assertEquals(s.admit("p"), { ok: false, reason: "rate", abuse: true });
  tick(1000);
  assertEquals(s.admit("p").ok, true);
  // Other peers and we ourselves are not affected.
  assertEquals(s.admit("q"), { ok: true, waitMs: 0 });
  assertEquals(s.admit("self"), { ok: true, waitMs: 0 });
});

Deno.test("ProviderStore: records for keys we are not responsible for are refused", () => {
  const { s, now } = store({ isResponsible: (k) => k.startsWith("near") });
  assertEquals(put(s, "near1", "p", now()), { ok: true });
  assertEquals(put(s, "far1", "p", now()), { ok: false, reason: "not-responsible", abuse: false });
  assertEquals(put(s, "far1", "self", now()), { ok: true });
});

Deno.test("ProviderStore: delete and all() keep the counts right", () => {
  const { s, now } = store();
  put(s, "a", "p", now());
  put(s, "a", "q", now());
  put(s, "b", "p", now());
  assertEquals([...s.all()].length, 3);
  s.delete("a", "p");
  s.delete("a", "p");
  assertEquals(s.stats(), {
    records: 2,
    keys: 2,
    peers: 2,
    refused: { "rate": 0, "peer-quota": 0, "total-quota": 0, "not-responsible": 0 },
  });
});
