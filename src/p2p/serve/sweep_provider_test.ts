import { assert, assertEquals } from "@std/assert";
import { hexEncode } from "../../encoding/hex.ts";
import { ManualClock } from "../rate/clock.ts";
import { type Candidate, closestCandidates, compareXor, kadIdOf, regionBits } from "./regions.ts";
import { type ProviderEvents, type SweepDht, SweepProvider } from "./sweep_provider.ts";
import { narCid } from "../content_key.ts";

const H = 3600_000;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(n: number, r: () => number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/**
 * A network of `size` peers as the sweep sees it: a lookup answers the 20
 * closest peers to the key and names the next 40; sends are recorded.
 */
class FakeDht implements SweepDht {
  peers: Candidate[];
  lookups: Uint8Array[] = [];
  sends: { peer: string; keys: string[]; at: number }[] = [];
  self = new Set<string>();
  table: number;
  failLookups = false;
  /** Peers named beyond the 20 that answer (0: every answer names the same 20). */
  heardCount = 40;
  constructor(size: number, readonly clock: ManualClock, seed = 1, table = 1280) {
    const r = rng(seed);
    this.peers = Array.from({ length: size }, (_, i) => ({
      peer: `p${i}`,
      kadId: randomBytes(32, r),
    }));
    this.table = Math.min(table, size);
  }
  lookup(key: Uint8Array) {
    this.lookups.push(key);
    if (this.failLookups) return Promise.reject(new Error("no peers"));
    const near = closestCandidates(kadIdOf(key), this.peers, 20 + this.heardCount);
    return Promise.resolve({ closest: near.slice(0, 20), heard: near.slice(20) });
  }
  tableSize() {
    return this.table;
  }
  send(peer: string, keys: Uint8Array[]) {
    this.sends.push({ peer, keys: keys.map(hexEncode), at: this.clock.now() });
    return Promise.resolve();
  }
  keepSelf(key: Uint8Array, keep: boolean) {
    if (keep) this.self.add(hexEncode(key));
    else this.self.delete(hexEncode(key));
  }
  /** The true `n` closest peers of a NarHash's key. */
  closest(narHash: Uint8Array, n = 20): string[] {
    const id = kadIdOf(narCid(narHash).multihash.bytes);
    return [...this.peers].sort((a, b) => compareXor(a.kadId, b.kadId, id)).slice(0, n)
      .map((c) => c.peer).sort();
  }
}

function world(
  o: { size: number; keys: number; table?: number; peerBurst?: number; heard?: number },
) {
  const clock = new ManualClock(0);
  const dht = new FakeDht(o.size, clock, 1, o.table);
  if (o.heard !== undefined) dht.heardCount = o.heard;
  const events: { type: string; payload: unknown }[] = [];
  const sweep = new SweepProvider({
    dht,
    clock,
    intervalMs: 12 * H,
    peerRate: 25,
    peerBurst: o.peerBurst ?? 500,
    emit: (type, payload) => events.push({ type, payload }),
  });
  const r = rng(99);
  const hashes = Array.from({ length: o.keys }, () => randomBytes(32, r));
  const batches = () =>
    events.filter((e) => e.type === "provide:sweep").map((e) =>
      e.payload as ProviderEvents["provide:sweep"]
    );
  /**
   * Runs the provider until `done()`: lets pending work settle (one real
   * macrotask turn), then fires the next simulated timer; fails if neither
   * happens (stuck).
   */
  const drive = async (done: () => boolean, maxTimers = 100_000) => {
    for (let fired = 0; fired <= maxTimers; fired++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (done()) return;
      if (!clock.fireNext()) throw new Error("stuck: no timer pending and not done");
    }
    throw new Error(`not done after ${maxTimers} timers`);
  };
  /** Keys (hex of their multihash) each peer was sent, since `from`. */
  const received = (from = 0) => {
    const m = new Map<string, Set<string>>();
    for (const s of dht.sends.filter((s) => s.at >= from)) {
      for (const k of s.keys) {
        if (!m.has(k)) m.set(k, new Set());
        m.get(k)!.add(s.peer);
      }
    }
    return m;
  };
  return { clock, dht, sweep, hashes, events, batches, drive, received };
}

const keyHex = (narHash: Uint8Array) => hexEncode(narCid(narHash).multihash.bytes);

Deno.test("SweepProvider: new keys go out as one batch, one lookup per region, each key to its 20 closest", async () => {
  const w = world({ size: 2000, keys: 1000 });
  w.sweep.start();
  for (const h of w.hashes) w.sweep.provide(h);
  await w.drive(() => w.batches().length === 1);
  const [batch] = w.batches();
  const bits = regionBits(2000, 10);
  assertEquals(batch!.reason, "new");
  assertEquals(batch!.keys, 1000);
  // About one lookup per region (2^bits regions; a region a lookup finds denser than
  // expected is split in two), not one per key.
  assert(w.dht.lookups.length <= 2 ** (bits + 1), `${w.dht.lookups.length} lookups`);
  assert(w.dht.lookups.length < 1000 / 4, `${w.dht.lookups.length} lookups`);
  assertEquals(batch!.lookups, w.dht.lookups.length);
  const got = w.received();
  for (const h of w.hashes) assertEquals([...got.get(keyHex(h))!].sort(), w.dht.closest(h));
  // A peer gets each region's keys on one stream: no more sends than (peer, region) pairs.
  assertEquals(batch!.messages, 1000 * 20);
  assert(w.dht.sends.length <= batch!.peers * w.dht.lookups.length);
  // Our own record of every key is kept (GET_PROVIDERS to us names us).
  assertEquals(w.dht.self.size, 1000);
  assertEquals(w.events.filter((e) => e.type === "provide:done").length, 1000);
  await w.sweep.stop();
});

Deno.test("SweepProvider: where every answer names the same 20 peers, keys still land near their 20 closest", async () => {
  // Every peer knows every other (a small network): each answer names the same 20 peers, so
  // a region's candidates are the 20 closest to its middle key; regions of 10 to 20 peers
  // keep keys far from the middle close to their own 20.
  const w = world({ size: 1000, keys: 1000, heard: 0 });
  w.sweep.start();
  for (const h of w.hashes) w.sweep.provide(h);
  await w.drive(() => w.batches().length === 1);
  const got = w.received();
  let held = 0;
  for (const h of w.hashes) {
    const want = new Set(w.dht.closest(h));
    held += [...got.get(keyHex(h))!].filter((p) => want.has(p)).length;
  }
  assert(held / 1000 >= 17, `${held / 1000} of each key's 20 closest hold it`);
  assert(w.dht.lookups.length <= 2 ** (regionBits(1000, 10) + 1), `${w.dht.lookups.length}`);
  await w.sweep.stop();
});

Deno.test("SweepProvider: every key is sent again once per interval, spread over it", async () => {
  const w = world({ size: 2000, keys: 200 });
  w.sweep.start();
  for (const h of w.hashes) w.sweep.provide(h);
  await w.drive(() => w.batches().length === 1);
  const t0 = w.clock.now();
  await w.drive(() => w.clock.now() >= t0 + 24 * H);
  const sweeps = w.batches().filter((b) => b.reason === "sweep");
  // Keys just announced wait for the next pass (≤ 1.5 intervals); after that, one send per interval.
  const window = w.dht.sends.filter((s) => s.at >= t0 + 12 * H && s.at < t0 + 24 * H);
  const sends = new Map<string, Set<string>>();
  for (const s of window) {
    for (const k of s.keys) sends.set(k, (sends.get(k) ?? new Set()).add(s.peer));
  }
  for (const h of w.hashes) assertEquals(sends.get(keyHex(h))?.size, 20, "refreshed once");
  const perKey = new Map<string, number>();
  for (const s of window) for (const k of s.keys) perKey.set(k, (perKey.get(k) ?? 0) + 1);
  for (const n of perKey.values()) assertEquals(n, 20);
  // The work is spread: many small batches, none with more than a few regions' keys.
  assert(sweeps.length > 20, `${sweeps.length} sweep batches`);
  assert(Math.max(...sweeps.map((b) => b.keys)) < 40);
  await w.sweep.stop();
});

Deno.test("SweepProvider: an unprovided key is not sent again and our record of it is dropped", async () => {
  const w = world({ size: 500, keys: 50 });
  w.sweep.start();
  for (const h of w.hashes) w.sweep.provide(h);
  await w.drive(() => w.batches().length === 1);
  const gone = w.hashes.slice(0, 10);
  for (const h of gone) await w.sweep.unprovide(h);
  for (const h of gone) assertEquals(w.dht.self.has(keyHex(h)), false);
  assertEquals(w.dht.self.size, 40);
  const t0 = w.clock.now();
  await w.drive(() => w.clock.now() >= t0 + 25 * H);
  const later = w.received(t0 + 1);
  for (const h of gone) assertEquals(later.has(keyHex(h)), false, "never refreshed");
  for (const h of w.hashes.slice(10)) assertEquals(later.has(keyHex(h)), true);
  assertEquals(w.sweep.stats().keys, 40);
  await w.sweep.stop();
});

Deno.test("SweepProvider: a region denser than the table suggested is split and looked up again", async () => {
  // The routing table knows 30 peers (1 region), the network has 5000 (7 bits).
  const w = world({ size: 5000, keys: 400, table: 30 });
  w.sweep.start();
  for (const h of w.hashes) w.sweep.provide(h);
  await w.drive(() => w.batches().length === 1);
  assert(w.dht.lookups.length > 20, `${w.dht.lookups.length} lookups: the region was split`);
  // Each lookup's estimate is noisy (5000 peers is at the edge of 7 and 8 bits): at most 2^8.
  assert(w.dht.lookups.length <= 2 ** (regionBits(5000, 10) + 1), `${w.dht.lookups.length}`);
  const got = w.received();
  let exact = 0;
  for (const h of w.hashes) {
    const want = new Set(w.dht.closest(h));
    const mine = [...got.get(keyHex(h))!];
    if (mine.every((p) => want.has(p))) exact++;
  }
  assert(exact >= 0.95 * 400, `${exact}/400 keys at exactly their 20 closest`);
  // The estimate now reflects the network, so the next batches use the right regions.
  const size = w.sweep.stats().networkSize;
  assert(size > 3500 && size < 7000, `network size estimate ${size}`);
  await w.sweep.stop();
});

Deno.test("SweepProvider: one peer gets at most peerBurst records at once, then peerRate per second", async () => {
  // A 5-peer swarm: every peer is among every key's closest, so each gets all 2000 keys.
  const w = world({ size: 5, keys: 2000, peerBurst: 500 });
  w.sweep.start();
  for (const h of w.hashes) w.sweep.provide(h);
  await w.drive(() => w.batches().length === 1);
  for (const p of w.dht.peers) {
    const sends = w.dht.sends.filter((s) => s.peer === p.peer);
    assertEquals(sends.reduce((n, s) => n + s.keys.length, 0), 2000);
    assert(sends.every((s) => s.keys.length <= 500));
    // 500 at once, then 1500 at 25/s: the last chunk leaves 60 s after the first.
    const span = sends.at(-1)!.at - sends[0]!.at;
    assert(span >= 59_000 && span <= 61_000, `${p.peer}: ${span} ms`);
  }
  await w.sweep.stop();
});

Deno.test("SweepProvider: a new key no peer took is reported and announced again later", async () => {
  const w = world({ size: 100, keys: 3 });
  w.dht.failLookups = true;
  w.sweep.start();
  for (const h of w.hashes) w.sweep.provide(h);
  await w.drive(() => w.batches().length === 1);
  const done = w.events.filter((e) => e.type === "provide:done").map((e) =>
    e.payload as ProviderEvents["provide:done"]
  );
  assertEquals(done.length, 3);
  assert(done.every((d) => d.error !== undefined));
  w.dht.failLookups = false;
  await w.drive(() => w.batches().length === 2);
  assert(w.clock.now() >= 30_000, "retried after its back-off");
  const got = w.received();
  for (const h of w.hashes) assertEquals(got.get(keyHex(h))?.size, 20);
  await w.sweep.stop();
});

Deno.test("SweepProvider: keys provided `later` wait for a quiet period, then go out together; `pending` counts keys no peer took yet", async () => {
  const w = world({ size: 200, keys: 3 });
  const [a, b, c] = w.hashes as [Uint8Array, Uint8Array, Uint8Array];
  w.sweep.start();
  w.sweep.provide(a, { later: true });
  w.clock.advance(3000);
  w.sweep.provide(b, { later: true });
  w.clock.advance(4000);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(w.batches().length, 0, "still within 5 s of the last deferred key");
  assertEquals(w.sweep.pending, 2);
  await w.drive(() => w.batches().length === 1);
  assertEquals(w.clock.now(), 8000, "5 s after the last deferred key");
  assertEquals(w.batches()[0]!.keys, 2);
  assertEquals(w.sweep.pending, 0);
  // A key provided now goes within a second, and takes deferred ones with it.
  w.sweep.provide(c, { later: true });
  w.sweep.provide(w.hashes[0]!.map((x) => x ^ 1));
  await w.drive(() => w.batches().length === 2);
  assertEquals(w.clock.now(), 9000);
  assertEquals(w.batches()[1]!.keys, 2);
  await w.sweep.stop();
});
