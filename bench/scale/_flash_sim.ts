/**
 * A flash crowd in simulation: one seeder and L leechers that all start
 * fetching the same NAR at once. Every leecher runs the REAL block scheduler
 * (src/p2p/scheduler/, one `BlockScheduler` per download, with a `tieSeed`
 * of its own, as `SwarmDownload` creates it) over the peers it found; a
 * leecher serves the blocks it has verified (docs/protocol.md §3.3: a
 * partial seeder's manifest says which) and, once complete, seeds the whole
 * NAR (auto-seed).
 *
 * What is modelled, after the production download and serving code:
 * - peer discovery: a leecher's provider record appears `announceMs` after
 *   it starts (the sweep's 1 s batching plus a lookup); a leecher looks
 *   providers up `lookupMs` after it starts and again every 3 s while it has
 *   fewer than `maxPeers` (8) peers (`SwarmDownload`'s periodic discovery),
 *   taking new providers in the order `pick` gives (`"first"`: the order the
 *   record holder lists them, i.e. the order they announced, as kad-dht's
 *   provider store returns them; `"random"`: a random sample);
 * - availability of partial peers: refreshed by a manifest request every 2 s
 *   (`SwarmDownload.#refreshPartialPeers`); the manifest (bitfield and block
 *   hashes) costs the server's uplink;
 * - serving: each node's uplink sends one block at a time, requesters served
 *   round-robin (TCP's fair share of a link; `max_upload_rate` 0); a block
 *   the server lacks is answered "not available"; `seederSlots` > 0 caps how
 *   many peers the first seeder serves at once (others are answered "busy"),
 *   preferring peers it served least (upload slots, as BitTorrent chokes);
 * - links: one-way latency `latencyMs`; each node's uplink and downlink at
 *   `bytesPerSecond`; requests of ≤ 256 blocks; CANCEL of duplicates; a
 *   request unanswered after 20 s times out (`block_request_timeout`); a peer
 *   with 4 timeouts in a row is dropped.
 * Left out: TCP slow start and loss, zstd (blocks travel raw: the worst case
 * for upload), CPU (hashing 100 MB/s per core would not bind here), the DHT
 * lookups' own traffic, and churn during the crowd.
 *
 * @example
 * ```ts
 * const r = simulateFlash({ leechers: 1000, narSize: 300e6, blockSize: 262144,
 *   bytesPerSecond: 12.5e6, latencyMs: 50, seed: 1 });
 * r.lastFinishMs / r.singleMs; // the crowd's slowdown against one fetch
 * ```
 * @module
 */
import { BlockScheduler } from "../../src/p2p/scheduler/mod.ts";
import { mulberry32 } from "../../tests/support/random.ts";
import { EventQueue } from "../../tests/support/scheduler_sim/event_queue.ts";

/** Options of {@linkcode simulateFlash}. */
export interface FlashOptions {
  leechers: number;
  narSize: number;
  blockSize: number;
  /** Uplink and downlink of every node. */
  bytesPerSecond: number;
  latencyMs: number;
  seed: number;
  /** Leechers start spread over this long (default 0: all at once). */
  spreadMs?: number;
  maxPeers?: number;
  pick?: "first" | "random";
  /** Peers the first seeder serves at once (0: all). */
  seederSlots?: number;
  announceMs?: number;
  lookupMs?: number;
  /** Give up after this much simulated time (default 1 h). */
  maxSimMs?: number;
}

/** Outcome of {@linkcode simulateFlash}. */
export interface FlashResult {
  leechers: number;
  completed: number;
  /** Simulated ms from a leecher's start to its last block: median, p95, max. */
  finishMedianMs: number;
  finishP95Ms: number;
  lastFinishMs: number;
  /** Bytes the first seeder sent (blocks and manifests). */
  seederUpload: number;
  /** Mean bytes a leecher uploaded. */
  leecherUploadMean: number;
  /** Duplicate block arrivals over all leechers, as a share of the blocks needed. */
  duplicateShare: number;
  /** Manifest bytes (availability refreshes) over all nodes. */
  manifestBytes: number;
  events: number;
}

interface Node {
  id: number;
  have: Uint8Array;
  count: number;
  complete: boolean;
  startAt: number;
  finishAt: number;
  sched: BlockScheduler | undefined;
  /** Peers this node downloads from → their availability as last seen. */
  peers: Map<number, Uint8Array | "all">;
  /** Round-robin uplink: requester → queued block indexes. */
  queues: Map<number, number[]>;
  order: number[];
  sending: boolean;
  downFree: number;
  uploaded: number;
  /** Blocks this node (a seeder with slots) sent to each peer. */
  servedTo: Map<number, number>;
  timeouts: Map<number, number>;
  nextTimeoutCheck: number;
}

type Ev =
  | { k: "start"; n: number }
  | { k: "discover"; n: number }
  | { k: "request"; from: number; to: number; idx: number[] }
  | { k: "cancel"; from: number; to: number; idx: number[] }
  | { k: "sent"; from: number; to: number; i: number }
  | { k: "block"; from: number; to: number; i: number; ok: "block" | "not-available" | "busy" }
  | { k: "refresh"; n: number; peer: number }
  | { k: "manifest"; n: number; peer: number; have: Uint8Array | "all" }
  | { k: "timeouts"; n: number };

const DISCOVER_EVERY_MS = 3000;
const REFRESH_EVERY_MS = 2000;
const REQUEST_TIMEOUT_MS = 20_000;

/** Runs the flash crowd; also one leecher alone (the single-fetch baseline) when `leechers` is 1. */
export function simulateFlash(o: FlashOptions): FlashResult {
  const rand = mulberry32(o.seed);
  const blocks = Math.ceil(o.narSize / o.blockSize);
  const sizeOf = (i: number) => Math.min(o.blockSize, o.narSize - i * o.blockSize);
  const manifestBytes = 64 + Math.ceil(blocks / 8) + 32 * blocks;
  const maxPeers = o.maxPeers ?? 8;
  const lat = o.latencyMs;
  const bps = o.bytesPerSecond;
  const q = new EventQueue<Ev>();
  let t = 0;
  let events = 0;
  let manifestTotal = 0;
  let duplicates = 0;
  const nodes: Node[] = [];
  for (let id = 0; id <= o.leechers; id++) {
    nodes.push({
      id,
      have: new Uint8Array(blocks).fill(id === 0 ? 1 : 0),
      count: id === 0 ? blocks : 0,
      complete: id === 0,
      startAt: id === 0 ? 0 : (o.spreadMs ?? 0) * rand(),
      finishAt: 0,
      sched: undefined,
      peers: new Map(),
      queues: new Map(),
      order: [],
      sending: false,
      downFree: 0,
      uploaded: 0,
      servedTo: new Map(),
      timeouts: new Map(),
      nextTimeoutCheck: Infinity,
    });
  }
  /** Providers in the order the record holders list them (announce order). */
  const announced: { n: number; at: number }[] = [{ n: 0, at: -1 }];
  for (const n of nodes.slice(1)) {
    announced.push({ n: n.id, at: n.startAt + (o.announceMs ?? 2000) * (0.75 + 0.5 * rand()) });
  }
  announced.sort((a, b) => a.at - b.at);
  for (const n of nodes.slice(1)) q.push(n.startAt, { k: "start", n: n.id });

  const pump = (n: Node) => {
    const s = n.sched;
    if (!s || n.complete) return;
    for (const peer of n.peers.keys()) {
      if (!s.hasPeer(String(peer))) continue;
      const got = s.next(String(peer));
      for (let k = 0; k < got.length; k += 256) {
        q.push(t + lat, { k: "request", from: n.id, to: peer, idx: got.slice(k, k + 256) });
      }
    }
    const expiry = s.nextExpiry;
    if (expiry !== undefined && expiry < n.nextTimeoutCheck) {
      n.nextTimeoutCheck = expiry;
      q.push(expiry, { k: "timeouts", n: n.id });
    }
  };

  const addPeer = (n: Node, peer: number) => {
    const p = nodes[peer]!;
    const have: Uint8Array | "all" = p.complete ? "all" : p.have.slice();
    n.peers.set(peer, have);
    n.sched!.addPeer(String(peer), have === "all" ? "all" : bitsOf(have));
    if (have !== "all") q.push(t + REFRESH_EVERY_MS, { k: "refresh", n: n.id, peer });
  };

  const serve = (s: Node) => {
    if (s.sending) return;
    for (let tries = s.order.length; tries > 0; tries--) {
      const r = s.order.shift()!;
      const list = s.queues.get(r);
      if (!list || list.length === 0) {
        s.queues.delete(r);
        continue;
      }
      s.order.push(r);
      const i = list.shift()!;
      if (!s.have[i]) {
        q.push(t + lat, { k: "block", from: s.id, to: r, i, ok: "not-available" });
        tries++;
        continue;
      }
      s.sending = true;
      const bytes = sizeOf(i);
      s.uploaded += bytes;
      q.push(t + (bytes / bps) * 1000, { k: "sent", from: s.id, to: r, i });
      return;
    }
  };

  /** With upload slots: whether the seeder serves `r` now (else "busy"). */
  const admitted = (s: Node, r: number): boolean => {
    const slots = o.seederSlots ?? 0;
    if (s.id !== 0 || slots <= 0 || s.queues.has(r)) return true;
    if (s.queues.size < slots) return true;
    // Full: make room for a peer served less than the most-served one being served.
    const served = (x: number) => s.servedTo.get(x) ?? 0;
    let most = -1;
    for (const x of s.queues.keys()) if (most < 0 || served(x) > served(most)) most = x;
    if (most >= 0 && served(r) < served(most)) {
      for (const i of s.queues.get(most) ?? []) {
        q.push(t + lat, { k: "block", from: s.id, to: most, i, ok: "busy" });
      }
      s.queues.delete(most);
      return true;
    }
    return false;
  };

  const finish = (n: Node) => {
    n.complete = true;
    n.finishAt = t;
    n.sched = undefined;
    n.peers.clear();
  };

  const handle = (e: Ev) => {
    switch (e.k) {
      case "start": {
        const n = nodes[e.n]!;
        n.sched = new BlockScheduler({
          blockCount: blocks,
          now: () => t,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
          tieSeed: Math.floor(rand() * 2 ** 32),
        });
        q.push(t + (o.lookupMs ?? 800), { k: "discover", n: n.id });
        break;
      }
      case "discover": {
        const n = nodes[e.n]!;
        if (n.complete) break;
        const known = announced.filter((a) => a.at <= t && a.n !== n.id && !n.peers.has(a.n));
        const room = maxPeers - n.peers.size;
        const pick = o.pick === "random" ? shuffled(known, rand) : known;
        for (const a of pick.slice(0, Math.max(0, room))) addPeer(n, a.n);
        if (n.peers.size < maxPeers) q.push(t + DISCOVER_EVERY_MS, { k: "discover", n: n.id });
        pump(n);
        break;
      }
      case "request": {
        const s = nodes[e.to]!;
        if (!admitted(s, e.from)) {
          for (const i of e.idx) {
            q.push(t + lat, { k: "block", from: s.id, to: e.from, i, ok: "busy" });
          }
          break;
        }
        let list = s.queues.get(e.from);
        if (!list) {
          s.queues.set(e.from, list = []);
          s.order.push(e.from);
        }
        list.push(...e.idx);
        serve(s);
        break;
      }
      case "cancel": {
        const list = nodes[e.to]!.queues.get(e.from);
        if (list) {
          const drop = new Set(e.idx);
          nodes[e.to]!.queues.set(e.from, list.filter((i) => !drop.has(i)));
        }
        break;
      }
      case "sent": {
        const s = nodes[e.from]!;
        s.sending = false;
        s.servedTo.set(e.to, (s.servedTo.get(e.to) ?? 0) + 1);
        const r = nodes[e.to]!;
        const bytes = sizeOf(e.i);
        const arrive = Math.max(t + lat, r.downFree + (bytes / bps) * 1000);
        r.downFree = arrive;
        q.push(arrive, { k: "block", from: s.id, to: r.id, i: e.i, ok: "block" });
        serve(s);
        break;
      }
      case "block": {
        const n = nodes[e.to]!;
        const s = n.sched;
        const peer = String(e.from);
        if (!s || !s.hasPeer(peer)) break;
        if (e.ok === "block") {
          n.timeouts.set(e.from, 0);
          const r = s.received(peer, e.i, sizeOf(e.i));
          if (r.fresh) {
            n.have[e.i] = 1;
            n.count++;
          } else duplicates++;
          for (const other of r.duplicateAt) {
            q.push(t + lat, { k: "cancel", from: n.id, to: Number(other), idx: [e.i] });
          }
          if (s.done) {
            finish(n);
            break;
          }
        } else {
          s.failed(peer, e.i, e.ok);
        }
        pump(n);
        break;
      }
      case "refresh": {
        const n = nodes[e.n]!;
        if (n.complete || !n.peers.has(e.peer)) break;
        // GET_MANIFEST; the answer is the peer's state when it gets the request.
        const p = nodes[e.peer]!;
        const have: Uint8Array | "all" = p.complete ? "all" : p.have.slice();
        manifestTotal += manifestBytes;
        p.uploaded += manifestBytes;
        q.push(t + 2 * lat + (manifestBytes / bps) * 1000, {
          k: "manifest",
          n: n.id,
          peer: e.peer,
          have,
        });
        break;
      }
      case "manifest": {
        const n = nodes[e.n]!;
        if (n.complete || !n.sched?.hasPeer(String(e.peer))) break;
        n.peers.set(e.peer, e.have);
        n.sched.updateHave(String(e.peer), e.have === "all" ? "all" : bitsOf(e.have));
        if (e.have !== "all") q.push(t + REFRESH_EVERY_MS, { k: "refresh", n: n.id, peer: e.peer });
        pump(n);
        break;
      }
      case "timeouts": {
        const n = nodes[e.n]!;
        const s = n.sched;
        if (!s || t < n.nextTimeoutCheck) break;
        n.nextTimeoutCheck = Infinity;
        for (const x of s.expired()) {
          if (!s.hasPeer(x.peer)) continue;
          s.failed(x.peer, x.index, "timeout");
          const peer = Number(x.peer);
          q.push(t + lat, { k: "cancel", from: n.id, to: peer, idx: [x.index] });
          const c = (n.timeouts.get(peer) ?? 0) + 1;
          n.timeouts.set(peer, c);
          if (c >= 4) {
            s.removePeer(x.peer);
            n.peers.delete(peer);
            q.push(t + DISCOVER_EVERY_MS, { k: "discover", n: n.id });
          }
        }
        pump(n);
        break;
      }
    }
  };

  const maxMs = o.maxSimMs ?? 3_600_000;
  let completed = 0;
  for (;;) {
    const next = q.pop();
    if (!next || next.at > maxMs) break;
    t = next.at;
    events++;
    handle(next.value);
    if (next.value.k === "block" && nodes[next.value.to]!.complete) {
      completed = nodes.filter((n) => n.id > 0 && n.complete).length;
      if (completed === o.leechers) break;
    }
  }
  const times = nodes.slice(1).filter((n) => n.complete).map((n) => n.finishAt - n.startAt)
    .sort((a, b) => a - b);
  const at = (p: number) =>
    times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] ?? NaN;
  return {
    leechers: o.leechers,
    completed: times.length,
    finishMedianMs: at(0.5),
    finishP95Ms: at(0.95),
    lastFinishMs: times.length === o.leechers ? times.at(-1)! : Infinity,
    seederUpload: nodes[0]!.uploaded,
    leecherUploadMean: nodes.slice(1).reduce((a, n) => a + n.uploaded, 0) / o.leechers,
    duplicateShare: duplicates / (blocks * o.leechers),
    manifestBytes: manifestTotal,
    events,
  };
}

function bitsOf(have: Uint8Array): { get(i: number): boolean; size: number } {
  return { get: (i) => have[i] === 1, size: have.length };
}

function shuffled<T>(list: readonly T[], rand: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
