/**
 * A deterministic discrete-event simulation of one NAR download driven by
 * {@linkcode BlockScheduler}: simulated peers with their own upload bandwidth,
 * round-trip time and availability, that may join late, leave, stop
 * answering, lack blocks they advertise, answer busy, or send bad blocks. The
 * requester side plays the download loop of the real node: GET_BLOCKS of at
 * most 256 indexes, CANCEL of duplicates and timed-out requests, a peer
 * dropped after repeated timeouts or banned after repeated bad blocks.
 *
 * Network model: a request reaches the peer after rtt/2 (± jitter); each peer
 * sends the blocks it was asked for one after the other at its bandwidth
 * (FIFO), and a block arrives rtt/2 (± jitter) after its last byte left;
 * messages in one direction keep their order. A CANCEL drops the blocks not
 * yet started. The requester's own link is not a bottleneck. Pure: no real
 * time passes; randomness comes from the seeded generator.
 *
 * @example
 * ```ts
 * import { simulateDownload } from "./simulate.ts";
 * const r = simulateDownload({
 *   narSize: 64 * 2 ** 20,
 *   blockSize: 2 ** 18,
 *   seed: 1,
 *   peers: [
 *     { id: "fast", bytesPerSecond: 40e6, rttMs: 20 },
 *     { id: "slow", bytesPerSecond: 2e6, rttMs: 200 },
 *   ],
 * });
 * [r.completed, r.duplicateBytes / r.narSize < 0.05]; // [true, true]
 * ```
 * @module
 */
import {
  type BlockAvailability,
  BlockScheduler,
  type BlockSchedulerOptions,
} from "../../../src/p2p/scheduler/mod.ts";
import { mulberry32 } from "../random.ts";
import { EventQueue } from "./event_queue.ts";

/** One simulated peer. */
export interface SimPeer {
  id: string;
  /** Upload bandwidth towards the requester. */
  bytesPerSecond: number;
  /** Round-trip time. */
  rttMs: number;
  /** Each one-way delay varies by up to this fraction of rtt/2 either way (default 0); order is kept. */
  jitter?: number;
  /** What its manifest advertises (default "all"). */
  have?: BlockAvailability | "all";
  /** Blocks it advertises but answers `not-available` for (a stale manifest). */
  lacks?: (index: number) => boolean;
  /** When its manifest is obtained (default 0). */
  joinAtMs?: number;
  /** When it disconnects; the requester notices rtt/2 later. */
  leaveAtMs?: number;
  /** From then on it keeps the connection open but never answers. */
  stallAtMs?: number;
  /** Probability that a block it sends fails verification. */
  corruptRate?: number;
  /** Probability that it answers a block request `busy`. */
  busyRate?: number;
}

/** Options of {@linkcode simulateDownload}. */
export interface SimOptions {
  narSize: number;
  blockSize: number;
  peers: SimPeer[];
  /** Seed of the pseudo-random generator (corruption, busy replies). */
  seed: number;
  /** Scheduler options (the block count and the clock come from the simulation). */
  scheduler?: Partial<Omit<BlockSchedulerOptions, "blockCount" | "now">>;
  /** Drop a peer after this many timeouts in a row (default 3). */
  dropAfterTimeouts?: number;
  /** Ban a peer after this many bad blocks (default 5). */
  banAfterFaults?: number;
  /** Give up after this much simulated time (default one hour). */
  maxSimMs?: number;
  /** Called after every event with the simulated time and the scheduler (read-only use). */
  observe?: (timeMs: number, scheduler: BlockScheduler) => void;
}

/** Per-peer outcome. */
export interface SimPeerResult {
  id: string;
  /** Blocks this peer delivered first (that counted). */
  blocks: number;
  /** Blocks it delivered that were already present. */
  duplicates: number;
  /** Bad blocks it delivered. */
  rejected: number;
  /** Bytes it finished sending (whether or not they counted). */
  bytesSent: number;
  /** Set when the requester dropped it: "left", "timeouts" or "banned". */
  removed?: string;
}

/** Outcome of {@linkcode simulateDownload}. */
export interface SimResult {
  narSize: number;
  blockCount: number;
  completed: boolean;
  /** Simulated time of the last event handled (completion, or giving up). */
  timeMs: number;
  /** Bytes of blocks that arrived when already present. */
  duplicateBytes: number;
  /** Bytes of blocks that failed verification. */
  rejectedBytes: number;
  /** Scheduler decisions (block indexes handed out). */
  decisions: number;
  /** Simulated events handled. */
  events: number;
  /** When the endgame started, if it did. */
  endgameAtMs: number | undefined;
  /** `[timeMs, contiguousPrefix]` at every change of the prefix. */
  prefixTrace: [number, number][];
  /** Missing blocks no peer could serve at the end. */
  unavailable: number[];
  peers: SimPeerResult[];
}

type Reply = "block" | "corrupt" | "not-available" | "busy";
type SimEvent =
  | { kind: "join"; peer: PeerSim }
  | { kind: "request"; peer: PeerSim; indexes: number[] }
  | { kind: "cancel"; peer: PeerSim; indexes: number[] }
  | { kind: "sent"; peer: PeerSim; index: number }
  | { kind: "reply"; peer: PeerSim; index: number; reply: Reply }
  | { kind: "leave"; peer: PeerSim }
  | { kind: "noticed"; peer: PeerSim }
  | { kind: "timeouts" };

interface PeerSim {
  spec: SimPeer;
  /** Latest arrival scheduled in each direction (messages keep their order). */
  lastUp: number;
  lastDown: number;
  queue: number[];
  sending: boolean;
  /** Disconnected: sends nothing more. */
  gone: boolean;
  /** Known to the scheduler. */
  active: boolean;
  result: SimPeerResult;
}

/**
 * Runs one simulated download to completion (or until it is stuck, or
 * `maxSimMs`), and reports what happened.
 *
 * @example
 * ```ts
 * import { simulateDownload } from "./simulate.ts";
 * const r = simulateDownload({
 *   narSize: 10 * 2 ** 18,
 *   blockSize: 2 ** 18,
 *   seed: 7,
 *   peers: [{ id: "a", bytesPerSecond: 1e6, rttMs: 50, have: { get: (i) => i < 5 } }],
 * });
 * [r.completed, r.unavailable]; // [false, [5, 6, 7, 8, 9]]
 * ```
 */
export function simulateDownload(options: SimOptions): SimResult {
  const { narSize, blockSize } = options;
  const blockCount = Math.ceil(narSize / blockSize);
  const sizeOf = (i: number) => Math.min(blockSize, narSize - i * blockSize);
  const rand = mulberry32(options.seed);
  const dropAfter = options.dropAfterTimeouts ?? 3;
  const banAfter = options.banAfterFaults ?? 5;
  const maxMs = options.maxSimMs ?? 3_600_000;
  let t = 0;
  const sched = new BlockScheduler({
    requestTimeoutMs: 20_000,
    ...options.scheduler,
    blockCount,
    now: () => t,
  });
  const queue = new EventQueue<SimEvent>();
  const peers = options.peers.map((spec): PeerSim => ({
    spec,
    lastUp: 0,
    lastDown: 0,
    queue: [],
    sending: false,
    gone: false,
    active: false,
    result: { id: spec.id, blocks: 0, duplicates: 0, rejected: 0, bytesSent: 0 },
  }));
  for (const p of peers) {
    queue.push(p.spec.joinAtMs ?? 0, { kind: "join", peer: p });
    if (p.spec.leaveAtMs !== undefined) queue.push(p.spec.leaveAtMs, { kind: "leave", peer: p });
  }

  let duplicateBytes = 0;
  let rejectedBytes = 0;
  let events = 0;
  let endgameAtMs: number | undefined;
  let timeoutCheckAt = Infinity;
  const prefixTrace: [number, number][] = [[0, 0]];
  const delay = (p: PeerSim) => (p.spec.rttMs / 2) * (1 + (p.spec.jitter ?? 0) * (2 * rand() - 1));
  /** Arrival time at the peer of a message sent now. */
  const up = (p: PeerSim) => (p.lastUp = Math.max(p.lastUp, t + delay(p)));
  /** Arrival time at the requester of a message the peer sends now. */
  const down = (p: PeerSim) => (p.lastDown = Math.max(p.lastDown, t + delay(p)));
  const stalled = (p: PeerSim) => p.spec.stallAtMs !== undefined && t >= p.spec.stallAtMs;

  /** Peer side: start sending the next queued block. */
  const serve = (p: PeerSim) => {
    while (!p.sending && p.queue.length > 0 && !p.gone) {
      if (stalled(p)) {
        p.queue.length = 0;
        return;
      }
      const index = p.queue.shift()!;
      if (p.spec.lacks?.(index)) {
        queue.push(down(p), { kind: "reply", peer: p, index, reply: "not-available" });
      } else if (p.spec.busyRate && rand() < p.spec.busyRate) {
        queue.push(down(p), { kind: "reply", peer: p, index, reply: "busy" });
      } else {
        p.sending = true;
        queue.push(t + (sizeOf(index) * 1000) / p.spec.bytesPerSecond, {
          kind: "sent",
          peer: p,
          index,
        });
      }
    }
  };

  /** Requester side: the connection to `p` is closed. */
  const drop = (p: PeerSim, why: string) => {
    if (!p.active) return;
    p.active = false;
    p.gone = true;
    p.queue.length = 0;
    p.result.removed = why;
    sched.removePeer(p.spec.id);
  };

  /** The caller's policy: a peer that timed out `dropAfter` times in a row is dropped. */
  const dropIfTimingOut = (p: PeerSim) => {
    if (p.active && sched.peerStats(p.spec.id).consecutiveTimeouts >= dropAfter) {
      drop(p, "timeouts");
    }
  };

  const cancel = (p: PeerSim, indexes: number[]) => {
    if (indexes.length > 0 && !p.gone) {
      queue.push(up(p), { kind: "cancel", peer: p, indexes });
    }
  };

  /** Requester side: hand out work to every peer with room, and watch the timeouts. */
  const pump = () => {
    for (const p of peers) {
      if (!p.active) continue;
      const got = sched.next(p.spec.id);
      for (let k = 0; k < got.length; k += 256) {
        queue.push(up(p), { kind: "request", peer: p, indexes: got.slice(k, k + 256) });
      }
    }
    if (endgameAtMs === undefined && sched.endgame) endgameAtMs = t;
    const expiry = sched.nextExpiry;
    if (expiry !== undefined && expiry < timeoutCheckAt) {
      timeoutCheckAt = expiry;
      queue.push(expiry, { kind: "timeouts" });
    }
  };

  const handle = (e: SimEvent) => {
    switch (e.kind) {
      case "join": {
        const p = e.peer;
        if (p.gone) break;
        p.active = true;
        sched.addPeer(p.spec.id, p.spec.have ?? "all");
        break;
      }
      case "request":
        if (e.peer.gone || stalled(e.peer)) break;
        e.peer.queue.push(...e.indexes);
        serve(e.peer);
        break;
      case "cancel": {
        const drop = new Set(e.indexes);
        e.peer.queue = e.peer.queue.filter((i) => !drop.has(i));
        break;
      }
      case "sent": {
        const p = e.peer;
        p.sending = false;
        if (p.gone || stalled(p)) break;
        p.result.bytesSent += sizeOf(e.index);
        const bad = p.spec.corruptRate !== undefined && rand() < p.spec.corruptRate;
        queue.push(down(p), {
          kind: "reply",
          peer: p,
          index: e.index,
          reply: bad ? "corrupt" : "block",
        });
        serve(p);
        break;
      }
      case "reply": {
        const p = e.peer;
        if (!p.active) break;
        const id = p.spec.id;
        if (e.reply === "block") {
          const r = sched.received(id, e.index, sizeOf(e.index));
          if (r.fresh) p.result.blocks++;
          else {
            p.result.duplicates++;
            duplicateBytes += sizeOf(e.index);
          }
          for (const other of r.duplicateAt) {
            const q = byId.get(other)!;
            cancel(q, [e.index]);
            dropIfTimingOut(q);
          }
        } else if (e.reply === "corrupt") {
          p.result.rejected++;
          rejectedBytes += sizeOf(e.index);
          sched.rejected(id, e.index);
          if (p.result.rejected >= banAfter) drop(p, "banned");
        } else {
          sched.failed(id, e.index, e.reply);
        }
        break;
      }
      case "leave":
        e.peer.gone = true;
        e.peer.queue.length = 0;
        queue.push(down(e.peer), { kind: "noticed", peer: e.peer });
        break;
      case "noticed":
        drop(e.peer, "left");
        break;
      case "timeouts": {
        if (t < timeoutCheckAt) break; // superseded by an earlier check
        timeoutCheckAt = Infinity;
        const byPeer = new Map<string, number[]>();
        for (const x of sched.expired()) {
          sched.failed(x.peer, x.index, "timeout");
          byPeer.set(x.peer, [...(byPeer.get(x.peer) ?? []), x.index]);
        }
        for (const [id, indexes] of byPeer) {
          const p = byId.get(id)!;
          cancel(p, indexes);
          dropIfTimingOut(p);
        }
        break;
      }
    }
  };

  const byId = new Map(peers.map((p) => [p.spec.id, p]));
  while (!sched.done) {
    const e = queue.pop();
    if (!e || e.at > maxMs) break;
    t = e.at;
    events++;
    handle(e.value);
    if (sched.contiguousPrefix !== prefixTrace[prefixTrace.length - 1]![1]) {
      prefixTrace.push([t, sched.contiguousPrefix]);
    }
    if (!sched.done) pump();
    options.observe?.(t, sched);
  }
  return {
    narSize,
    blockCount,
    completed: sched.done,
    timeMs: t,
    duplicateBytes,
    rejectedBytes,
    decisions: sched.stats().requests,
    events,
    endgameAtMs,
    prefixTrace,
    unavailable: sched.unavailable(),
    peers: peers.map((p) => p.result),
  };
}
