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

/** One item of a batch. */
export interface PrefetchItem {
  storePath: string;
  narHash: Uint8Array;
  narSize: number;
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
    let budget = o.maxBytes;
    const fetches: Promise<unknown>[] = [];
    let fetched = 0, bytes = 0, failed = 0;
    // Smallest first: the most items for the budget, and the first substitutions are leaves.
    const small = wanted.filter((it) => it.narSize <= MAX_WHOLE_NAR)
      .sort((a, b) => a.narSize - b.narSize);
    for (const it of small) {
      const providers = (found.get(hexEncode(it.narHash)) ?? []).filter((p) =>
        p.state === "complete"
      );
      if (providers.length < o.minProviders || it.narSize > budget) continue;
      budget -= it.narSize;
      fetches.push(
        o.whole.fetch(it, providers, signal).then(() => {
          fetched++;
          bytes += it.narSize;
        }, () => failed++),
      );
    }
    // Then the large ones peers have, within what is left of the budget, a few at a time:
    // they download while the small items are restored.
    const prepare = o.prepare;
    if (prepare) {
      const large = wanted.filter((it) => it.narSize > MAX_WHOLE_NAR)
        .filter((it) => (found.get(hexEncode(it.narHash)) ?? []).length >= o.minProviders)
        .sort((a, b) => a.narSize - b.narSize);
      const queue: PrefetchItem[] = [];
      for (const it of large) {
        if (it.narSize > budget) continue;
        budget -= it.narSize;
        queue.push(it);
      }
      const workers = Array.from(
        { length: Math.min(o.largeConcurrency ?? 2, queue.length) },
        async () => {
          for (let it = queue.shift(); it; it = queue.shift()) {
            if (signal?.aborted) return;
            if (await prepare(it, signal).catch(() => false)) {
              fetched++;
              bytes += it.narSize;
            } else failed++;
          }
        },
      );
      fetches.push(...workers);
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
