/**
 * Provider records that scale to thousands of items per node: "sweep"
 * reproviding by keyspace region (docs/protocol.md §2.2).
 *
 * kad-dht's own `provide()` runs one closest-peers lookup per key and its
 * republisher does it again per key every interval: 5,000 seeded items cost
 * 5,000 lookups per interval. Here the keys a node provides are grouped by
 * keyspace region (./regions.ts); each region costs one lookup, whose peers
 * (those that answered and those they named) are the candidates from which
 * every key of the region picks its 20 XOR-closest; then each chosen peer
 * gets all its keys as ADD_PROVIDER messages on one stream. Regions are cut
 * by an estimate of the network size (from each lookup, so a region that
 * turns out denser than expected is split and looked up again). A cursor
 * passes over the keyspace once per reprovide interval (./sweep_schedule.ts),
 * so the work is spread evenly; new keys are announced within a second, as a
 * batch. Unprovided keys (unseeded, evicted from the cache) are dropped from
 * the schedule and their local record deleted: they are not refreshed again
 * and expire at the peers within the record validity (48 h).
 *
 * Sending keeps under the receivers' provider-record limits: to one peer at
 * most `peerBurst` records at once, then `peerRate` per second (by default
 * half of this node's own `dht_provider_burst` and `dht_provider_rate`,
 * which every guix-p2p node applies to its senders), on one stream at a time.
 *
 * @example
 * ```ts
 * const sweep = new SweepProvider({ dht: libp2pSweepDht(() => node, …), intervalMs: 12 * 3600_000, emit });
 * sweep.start();
 * sweep.provide(narHash); // announced within a second, refreshed every interval
 * await sweep.unprovide(narHash);
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { systemClock } from "../rate/clock.ts";
import { BatchTimer } from "./_batch_timer.ts";
import { Pacer } from "./_pacer.ts";
import {
  assignPeers,
  type Candidate,
  groupByRegion,
  middleKey,
  prefixOf,
  regionBits,
  REPLICATION,
  sizeFromClosest,
} from "./regions.ts";
import { type ProvidedKey, SweepSchedule } from "./sweep_schedule.ts";
import type { SweepProviderInit, SweepStats } from "./sweep_types.ts";

export type { ProviderEvents, SweepDht, SweepProviderInit, SweepStats } from "./sweep_types.ts";

type Batch = { reason: "new" | "sweep"; keys: ProvidedKey[] };
type Tally = {
  regions: number;
  lookups: number;
  peers: Set<string>;
  messages: number;
  failed: number;
};

/**
 * Share of the replication a region is cut to hold at least: a region's
 * lookup finds the 20 peers closest to its middle key, which then include
 * all or most of the region's own peers, so every key of the region finds
 * (nearly) its own 20 closest among them and the peers they named. With
 * regions of 20 to 40 peers, a key far from the middle would miss up to a
 * third of its closest peers where every node knows every other (each answer
 * names the same 20); 10 to 20 keeps it to about a tenth, for twice the
 * lookups (docs/scale.md).
 */
const REGION_SHARE = 0.5;

/** The sweep provider. */
export class SweepProvider {
  #o: Required<Omit<SweepProviderInit, "emit">> & Pick<SweepProviderInit, "emit">;
  #schedule: SweepSchedule;
  #running = false;
  #stopping = new AbortController();
  #queue: Batch[] = [];
  #working: Promise<void> | undefined;
  #cancelTick: (() => void) | undefined;
  #fresh: BatchTimer;
  /** Keys (hex) not yet taken by any peer since they were provided. */
  #pending = new Set<string>();
  #pacer: Pacer;
  /** Recent network-size estimates (from lookups). */
  #sizes: number[] = [];
  /** New keys no peer took yet → announcement attempts so far (retried with backoff). */
  #retries = new Map<string, number>();
  #retryTimers = new Set<() => void>();
  #stats = { lookups: 0, messages: 0, batches: 0 };

  /** Creates the provider (nothing is sent before {@linkcode start}). */
  constructor(init: SweepProviderInit) {
    this.#o = {
      clock: systemClock,
      replication: REPLICATION,
      peerRate: 25,
      peerBurst: 500,
      sendConcurrency: 10,
      regionConcurrency: 4,
      debounceMs: 1000,
      laterQuietMs: 5000,
      laterMaxMs: 30_000,
      timeoutMs: 60_000,
      ...init,
      intervalMs: Math.max(1000, init.intervalMs),
    };
    this.#pacer = new Pacer({
      clock: this.#o.clock,
      rate: this.#o.peerRate,
      burst: this.#o.peerBurst,
      stop: () => this.#stopping.signal,
    });
    this.#fresh = new BatchTimer({
      clock: this.#o.clock,
      soonMs: this.#o.debounceMs,
      quietMs: this.#o.laterQuietMs,
      maxMs: this.#o.laterMaxMs,
      fire: () => {
        const keys = this.#schedule.takeFresh();
        if (keys.length > 0) this.#enqueue({ reason: "new", keys });
      },
    });
    this.#schedule = new SweepSchedule({
      intervalMs: this.#o.intervalMs,
      start: this.#o.clock.now(),
    });
  }

  /** Starts the sweep (and announces the keys provided so far). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = new AbortController();
    this.#scheduleTick();
    this.#schedule.markAllFresh();
    if (this.#schedule.size > 0) this.#fresh.soon();
  }

  /** Stops sending (keys are kept; a later start announces them again). */
  stop(): Promise<void> {
    this.#running = false;
    this.#stopping.abort(new Error("stopping"));
    this.#cancelTick?.();
    this.#fresh.cancel();
    for (const cancel of this.#retryTimers) cancel();
    this.#retryTimers.clear();
    this.#queue = [];
    return this.#working ?? Promise.resolve();
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Provides `narHash` (32 bytes): announced within `debounceMs` (with
   * `later`, after the quiet period `laterQuietMs`), then every interval.
   */
  provide(narHash: Uint8Array, options: { later?: boolean } = {}): void {
    const key = this.#schedule.add(narHash);
    if (!key) return;
    this.#pending.add(key.hex);
    if (!this.#running) return;
    if (options.later) this.#fresh.later();
    else this.#fresh.soon();
  }

  /** Keys provided that no peer has taken yet (their first announcement is to come). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Stops providing `narHash`: no refresh any more, our own record dropped. */
  unprovide(narHash: Uint8Array): Promise<void> {
    const hex = hexEncode(narHash);
    const key = this.#schedule.get(hex);
    this.#retries.delete(hex);
    this.#pending.delete(hex);
    if (key && this.#schedule.remove(hex)) this.#o.dht.keepSelf(key.multihash, false);
    return Promise.resolve();
  }

  /** Whether `narHash` (hex) is provided. */
  provides(hex: string): boolean {
    return this.#schedule.has(hex);
  }

  /** Counters. */
  stats(): SweepStats {
    const size = this.networkSize();
    return {
      keys: this.#schedule.size,
      networkSize: size,
      regionBits: this.#bits(),
      ...this.#stats,
    };
  }

  /** The current estimate of the number of DHT servers (at least the routing table's size + 1). */
  networkSize(): number {
    const table = this.#o.dht.tableSize() + 1;
    if (this.#sizes.length === 0) return table;
    const sorted = [...this.#sizes].sort((a, b) => a - b);
    return Math.max(table, Math.round(sorted[Math.floor(sorted.length / 2)]!));
  }

  #bits(): number {
    return regionBits(this.networkSize(), this.#o.replication * REGION_SHARE);
  }

  /** A new key no peer took: announced again after 30 s, 1 min, 2 min, … (at most 30 min). */
  #retryLater(k: ProvidedKey): void {
    const attempt = (this.#retries.get(k.hex) ?? 0) + 1;
    this.#retries.set(k.hex, attempt);
    const ms = Math.min(30 * 60_000, 30_000 * 2 ** (attempt - 1));
    const cancel = this.#o.clock.setTimer(() => {
      this.#retryTimers.delete(cancel);
      if (!this.#running || !this.#schedule.has(k.hex)) return;
      this.#schedule.markFresh(k.hex);
      this.#fresh.soon();
    }, ms);
    this.#retryTimers.add(cancel);
  }

  /** The next stretch of the sweep: about one region's share of the interval (≥ 1 s). */
  #scheduleTick(): void {
    const slots = 2 ** this.#bits();
    const ms = Math.min(this.#o.intervalMs, Math.max(1000, this.#o.intervalMs / slots));
    this.#cancelTick = this.#o.clock.setTimer(() => {
      if (!this.#running) return;
      const keys = this.#schedule.due(this.#o.clock.now());
      if (keys.length > 0) this.#enqueue({ reason: "sweep", keys });
      this.#scheduleTick();
    }, ms);
  }

  #enqueue(batch: Batch): void {
    this.#queue.push(batch);
    if (this.#working) return;
    this.#working = (async () => {
      for (let b = this.#queue.shift(); b && this.#running; b = this.#queue.shift()) {
        await this.#run(b).catch(() => {});
      }
    })().finally(() => (this.#working = undefined));
  }

  async #run(batch: Batch): Promise<void> {
    const t0 = this.#o.clock.now();
    const tally = { regions: 0, lookups: 0, peers: new Set<string>(), messages: 0, failed: 0 };
    const sent = new Set<ProvidedKey>();
    const bits = this.#bits();
    const regions = [...groupByRegion(batch.keys, bits).values()];
    tally.regions = regions.length;
    const worker = async () => {
      for (let keys = regions.shift(); keys && this.#running; keys = regions.shift()) {
        await this.#region(keys, bits, 0, tally, sent);
      }
    };
    await Promise.all(Array.from({ length: this.#o.regionConcurrency }, worker));
    const now = this.#o.clock.now();
    this.#schedule.markSent(sent, now);
    for (const k of sent) this.#pending.delete(k.hex);
    this.#stats.batches++;
    if (batch.reason === "new") {
      for (const k of batch.keys) {
        if (!this.#schedule.has(k.hex)) continue;
        if (sent.has(k)) this.#retries.delete(k.hex);
        else this.#retryLater(k);
        this.#o.emit?.("provide:done", {
          narHash: k.hex,
          ms: Math.round(now - t0),
          ...(sent.has(k) ? {} : { error: "no peer took the record" }),
        });
      }
    }
    this.#o.emit?.("provide:sweep", {
      reason: batch.reason,
      keys: sent.size,
      regions: tally.regions,
      lookups: tally.lookups,
      peers: tally.peers.size,
      messages: tally.messages,
      failedPeers: tally.failed,
      ms: Math.round(now - t0),
    });
  }

  /**
   * One region: a lookup of its middle key; if the answer shows the region
   * denser than `bits` assumed, its keys are split by the finer prefix and
   * each part handled on its own (the part holding the middle key reuses
   * this lookup); else every key goes to its closest candidates.
   */
  async #region(
    keys: ProvidedKey[],
    bits: number,
    depth: number,
    tally: Tally,
    sent: Set<ProvidedKey>,
  ): Promise<void> {
    const live = keys.filter((k) => this.#schedule.has(k.hex));
    if (live.length === 0) return;
    const middle = middleKey(live);
    let found: { closest: Candidate[]; heard: Candidate[] };
    try {
      found = await this.#pacer.deadline(
        this.#o.timeoutMs,
        (signal) => this.#o.dht.lookup(middle.multihash, { signal }),
      );
    } catch {
      return;
    }
    this.#stats.lookups++;
    tally.lookups++;
    const r = this.#o.replication;
    const size = found.closest.length >= Math.min(r, 4)
      ? sizeFromClosest(middle.kadId, found.closest.slice(0, r).map((c) => c.kadId))
      : undefined;
    if (size !== undefined && found.closest.length >= r) {
      this.#sizes.push(size);
      if (this.#sizes.length > 15) this.#sizes.shift();
    }
    const local = size !== undefined && found.closest.length >= r
      ? regionBits(size, r * REGION_SHARE)
      : bits;
    const candidates = [...found.closest, ...found.heard];
    if (local > bits && live.length > 1 && depth < 2) {
      const home = prefixOf(middle.kadId, local);
      for (const [prefix, part] of groupByRegion(live, local)) {
        if (!this.#running) return;
        if (prefix === home) await this.#send(part, candidates, tally, sent);
        else await this.#region(part, local, depth + 1, tally, sent);
      }
      return;
    }
    await this.#send(live, candidates, tally, sent);
  }

  /** Sends every key to its closest candidates, `sendConcurrency` peers at a time. */
  async #send(
    keys: ProvidedKey[],
    candidates: Candidate[],
    tally: Tally,
    sent: Set<ProvidedKey>,
  ): Promise<void> {
    for (const k of keys) this.#o.dht.keepSelf(k.multihash, true);
    const byPeer = [...assignPeers(keys, candidates, this.#o.replication)];
    const worker = async () => {
      for (let job = byPeer.shift(); job && this.#running; job = byPeer.shift()) {
        const [peer, list] = job;
        const todo = list.filter((k) => this.#schedule.has(k.hex));
        if (todo.length === 0) continue;
        try {
          await this.#pacer.paced(peer, todo, (chunk) =>
            this.#pacer.deadline(
              this.#o.timeoutMs,
              (signal) => this.#o.dht.send(peer, chunk.map((k) => k.multihash), { signal }),
            ));
          for (const k of todo) sent.add(k);
          tally.peers.add(peer);
          tally.messages += todo.length;
          this.#stats.messages += todo.length;
        } catch {
          tally.failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: this.#o.sendConcurrency }, worker));
  }
}
