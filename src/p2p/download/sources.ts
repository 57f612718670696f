/**
 * The planner's P2P sources for a NAR, cheapest first:
 *
 * 1. a verified copy in the block cache (prefetched, or fetched earlier);
 * 2. for a small NAR (≤ 4 MiB), the whole NAR from one provider, checked
 *    against the NarHash before the first byte is handed on;
 * 3. for a large NAR, a swarm download of the providers' manifest group
 *    (largest group of first-hand sources first), block by block from
 *    several peers over their shared links.
 *
 * Providers come from the availability index: usually already known from
 * the `have`/`info` queries that preceded the substitution, otherwise asked
 * of connected peers, then the DHT. With no provider, nothing is yielded at
 * once (no waiting before HTTP).
 *
 * @example
 * ```ts
 * const planner = new FetchPlanner({ http, p2p: new P2pSources(init) });
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import type { FetchTarget, NarSource, SourceFactory } from "../../fetch/source.ts";
import { narCid } from "../content_key.ts";
import { MAX_WHOLE_NAR } from "../wire/mod.ts";
import { cacheSource, entryFile, entryStream } from "./_entry_source.ts";
import { type SwarmSourceEvents, SwarmSources, type SwarmSourcesInit } from "./_swarm_sources.ts";
import type { Provider } from "./availability.ts";
import type { WholeFetcher } from "./whole.ts";

/** Events of the sources. */
export interface SourceEvents extends SwarmSourceEvents {
  "providers:found": { narHash: string; count: number; ms: number };
}

/** Options of {@linkcode P2pSources} (the swarm's, and the whole-NAR fetcher). */
export interface P2pSourcesInit extends Omit<SwarmSourcesInit, "emit"> {
  running: () => boolean;
  whole: WholeFetcher;
  emit: <K extends keyof SourceEvents>(type: K, payload: SourceEvents[K]) => void;
}

/** P2P source factory. */
export class P2pSources implements SourceFactory {
  #o: P2pSourcesInit;
  #swarm: SwarmSources;

  /** Creates the factory. */
  constructor(init: P2pSourcesInit) {
    this.#o = init;
    this.#swarm = new SwarmSources(
      { ...init, emit: (type, payload) => init.emit(type, payload as SourceEvents[typeof type]) },
      (target, signal) => this.#providers(target, signal),
    );
  }

  /** Candidate P2P sources for `target`. */
  async *sources(target: FetchTarget, options: { signal: AbortSignal }): AsyncGenerator<NarSource> {
    const o = this.#o;
    if (!o.running()) return;
    const hex = hexEncode(target.narHashDigest);
    const url = `p2p://${narCid(target.narHashDigest).toString()}`;
    const cached = o.cache.get(hex);
    if (cached?.verified && cached.complete && cached.layout.narSize === target.narSize) {
      yield cacheSource(cached, url);
      return;
    }
    if (target.narSize <= MAX_WHOLE_NAR) {
      const running = o.whole.running(hex);
      const providers = running ? [] : await this.#providers(target, options.signal);
      if (!running && providers.filter((p) => p.state === "complete").length < o.minProviders) {
        return;
      }
      // Joins the running fetch if there is one (this caller's signal stops only its wait).
      const fetched = (signal: AbortSignal) =>
        o.whole.fetch(
          { narHash: target.narHashDigest, narSize: target.narSize, storePath: target.storePath },
          providers,
          signal,
        );
      yield {
        kind: "p2p",
        url,
        size: null,
        async open(offset, { signal }) {
          return entryStream(await fetched(signal), offset);
        },
        async openFile({ signal }) {
          return entryFile(await fetched(signal), o.whole.wireBytesOf(hex));
        },
      };
      return;
    }
    yield* this.#swarm.sources(target, hex, url, options.signal);
  }

  /**
   * Fetches `target` from peers ahead of its substitution (prefetch): the same
   * path as a fetch — cache, whole NAR, or swarm download — run to the end
   * into the block cache. Resolves when it is there or could not be had.
   */
  async prepare(target: FetchTarget, signal: AbortSignal): Promise<boolean> {
    for await (const source of this.sources(target, { signal })) {
      if (!source.openFile) return false;
      let file;
      try {
        file = await source.openFile({ signal });
      } catch {
        continue;
      }
      try {
        await file.grown(target.narSize - 1, signal);
        return true;
      } catch {
        continue;
      } finally {
        file.release();
      }
    }
    return false;
  }

  async #providers(target: FetchTarget, signal: AbortSignal): Promise<Provider[]> {
    const o = this.#o;
    const known = o.availability.known(target.narHashDigest);
    if (known.length >= o.minProviders) return known;
    const t0 = performance.now();
    const found = await o.availability.query(
      [{ narHash: target.narHashDigest, narSize: target.narSize }],
      { dht: true, signal },
    );
    const providers = found.get(hexEncode(target.narHashDigest)) ?? [];
    o.emit("providers:found", {
      narHash: hexEncode(target.narHashDigest),
      count: providers.length,
      ms: Math.round(performance.now() - t0),
    });
    return providers;
  }
}
