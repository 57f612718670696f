/**
 * Closure-aware prefetch. guix-daemon asks `have`/`info` for a whole closure
 * before it substitutes anything (and Nix clients ask for narinfos before
 * NARs): when such a batch is answered, providers of every item are looked up
 * at once (connected peers first, one round trip per peer), the small items
 * peers have are fetched whole, many per request, and then the large ones are
 * downloaded a few at a time, into the block cache — bounded in bytes per
 * batch (`prefetch_bytes`) and in total by the cache — so the `substitute`
 * requests that follow usually find their NAR already there.
 *
 * @example
 * ```ts
 * const prefetcher = new Prefetcher({ availability, whole, cache, maxBytes: 512 * 2 ** 20, minProviders: 1 });
 * prefetcher.prefetch(items); // returns at once; the work runs in the background
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import type { BlockCache } from "../store/deno_block_cache.ts";
import { MAX_WHOLE_NAR } from "../wire/mod.ts";
import type { Availability } from "./availability.ts";
import type { WholeFetcher } from "./whole.ts";
import { consumptionOrder } from "./_order.ts";

/** One item of a batch. */
export interface PrefetchItem {
  storePath: string;
  narHash: Uint8Array;
  narSize: number;
  /** Base names of the items it refers to, when known (they are substituted first). */
  references?: readonly string[];
}

/** Events of the prefetcher. */
export interface PrefetchEvents {
  "prefetch:done": { items: number; fetched: number; bytes: number; failed: number; ms: number };
}

/** Options of {@linkcode Prefetcher}. */
export interface PrefetcherInit {
  availability: Availability;
  whole: WholeFetcher;
  cache: BlockCache;
  /** Most NAR bytes fetched ahead for one batch (0: only look providers up). */
  maxBytes: number;
  minProviders: number;
  /** Whether to ask the DHT for items no connected peer has. */
  dht: boolean;
  /** Fetches a large NAR from peers into the cache (a swarm download); resolves with success. */
  prepare?: (item: PrefetchItem, signal?: AbortSignal) => Promise<boolean>;
  /** Large NARs downloaded ahead at once. Default 2. */
  largeConcurrency?: number;
  /**
   * NAR bytes asked for ahead and not yet received, at most (a large NAR counts for at most
   * half of it). The pipe to the peers stays full, and a NAR a consumer asks for that was not
   * asked for yet waits behind at most this much. Default 16 MiB.
   */
  windowBytes?: number;
  emit?: <K extends keyof PrefetchEvents>(type: K, payload: PrefetchEvents[K]) => void;
}

/** The prefetcher. */
export class Prefetcher {
  #o: PrefetcherInit;
  #running = new Set<Promise<void>>();

  /** Creates the prefetcher. */
  constructor(init: PrefetcherInit) {
    this.#o = init;
  }

  /** Batches in progress (for a clean stop). */
  get pending(): number {
    return this.#running.size;
  }

  /** Starts looking up and fetching `items` in the background. */
  prefetch(items: PrefetchItem[], signal?: AbortSignal): void {
    if (items.length === 0) return;
    const work = this.run(items, signal).catch(() => {}).finally(() => this.#running.delete(work));
    this.#running.add(work);
  }

  /** Looks up and fetches `items`; resolves when done (errors are per item and swallowed). */
  async run(items: PrefetchItem[], signal?: AbortSignal): Promise<void> {
    const o = this.#o;
    const t0 = performance.now();
    const wanted = items.filter((it) => {
      const e = o.cache.get(hexEncode(it.narHash));
      return !(e?.verified && e.complete);
    });
    if (wanted.length === 0) return;
    const found = await o.availability.query(wanted, { dht: o.dht, ...(signal ? { signal } : {}) });
    // In the order the items will be substituted (dependencies first), within the budget, with
    // at most `windowBytes` asked for and not yet here: what is needed first comes first, and
    // a consumer's own request for an item not asked for yet is not stuck behind the rest.
    const window = o.windowBytes ?? 16 * 1024 * 1024;
    const maxLarge = o.largeConcurrency ?? 2;
    const prepare = o.prepare;
    let budget = o.maxBytes;
    let fetched = 0, bytes = 0, failed = 0;
    let outstanding = 0, large = 0;
    const fetches = new Set<Promise<unknown>>();
    for (const it of consumptionOrder(wanted)) {
      if (signal?.aborted) break;
      const small = it.narSize <= MAX_WHOLE_NAR;
      const providers = (found.get(hexEncode(it.narHash)) ?? [])
        .filter((p) => !small || p.state === "complete");
      if (providers.length < o.minProviders || it.narSize > budget) continue;
      if (!small && !prepare) continue;
      const weight = small ? it.narSize : Math.min(it.narSize, window / 2);
      while (
        fetches.size > 0 && (outstanding + weight > window || (!small && large >= maxLarge))
      ) await Promise.race(fetches);
      budget -= it.narSize;
      outstanding += weight;
      if (!small) large++;
      const work: Promise<boolean> = small
        ? o.whole.fetch(it, providers, signal).then(() => true, () => false)
        : prepare!(it, signal).catch(() => false);
      const tracked = work.then((ok) => {
        outstanding -= weight;
        if (!small) large--;
        fetches.delete(tracked);
        if (ok) {
          fetched++;
          bytes += it.narSize;
        } else failed++;
      });
      fetches.add(tracked);
    }
    await Promise.all(fetches);
    o.emit?.("prefetch:done", {
      items: items.length,
      fetched,
      bytes,
      failed,
      ms: Math.round(performance.now() - t0),
    });
  }
}
