/**
 * One provider lookup in the simulation, as the daemon makes it
 * (src/p2p/discovery.ts): kad-dht's `findProviders` (real code) is followed
 * until `max` providers are found, or for `graceMs` after the first, or
 * until the budget is spent; our own PeerId is skipped. Measured on the
 * query's events: time to the first provider, its hop count (1 for a peer of
 * our routing table, n+1 for a peer named by a hop-n peer), requests sent.
 *
 * @example
 * ```ts
 * const r = await findProvider(world, clock, 0, key, { budgetMs: 30_000 });
 * r.firstMs; // e.g. 612.4
 * ```
 * @module
 */
import { narCid } from "../../src/p2p/content_key.ts";
import type { VirtualClock } from "./_clock.ts";
import type { SimKey } from "./_population.ts";
import type { RealDht } from "./_real_dht.ts";

/** Outcome of one lookup. */
export interface LookupResult {
  /** Providers found (our own id excluded). */
  found: number;
  /** Simulated ms to the first provider (undefined: none). */
  firstMs: number | undefined;
  /** Hops of the answer naming the first provider. */
  hops: number | undefined;
  /** Requests sent by the time the first provider was known / in all. */
  requestsToFirst: number | undefined;
  requests: number;
  /** Requests that failed (timeouts, departed peers). */
  errors: number;
  totalMs: number;
}

/** Options of {@linkcode findProvider}. */
export interface LookupOptions {
  budgetMs: number;
  /** Wait this long for more after the first (default 200, as the daemon). */
  graceMs?: number;
  /** Stop at this many (default 8, `max_peers_per_download`). */
  max?: number;
}

/** Looks up the providers of `key` from node `from`, running the simulation until it ends. */
export async function findProvider(
  world: RealDht,
  clock: VirtualClock,
  from: number,
  key: SimKey,
  options: LookupOptions,
): Promise<LookupResult> {
  const t0 = clock.now;
  const self = world.nodes[from]!.peer.peerId;
  const depth = new Map<string, number>();
  const r: LookupResult = {
    found: 0,
    firstMs: undefined,
    hops: undefined,
    requestsToFirst: undefined,
    requests: 0,
    errors: 0,
    totalMs: 0,
  };
  const stop = new AbortController();
  const budget = setTimeout(() => stop.abort(new Error("budget")), options.budgetMs);
  let grace: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  const seen = new Set<string>();
  void (async () => {
    try {
      for await (
        const e of world.nodes[from]!.dht.findProviders(narCid(key.narHash), {
          signal: stop.signal,
        })
      ) {
        if (e.name === "SEND_QUERY") {
          r.requests++;
          const to = e.to.toString();
          if (!depth.has(to)) depth.set(to, 1);
        } else if (e.name === "QUERY_ERROR") {
          r.errors++;
        } else if (e.name === "PEER_RESPONSE") {
          const d = depth.get(e.from.toString()) ?? 1;
          for (const c of e.closer) {
            const id = c.id.toString();
            if (!depth.has(id)) depth.set(id, d + 1);
          }
        } else if (e.name === "PROVIDER") {
          for (const p of e.providers) {
            const id = p.id.toString();
            if (p.id.equals(self) || seen.has(id)) continue;
            seen.add(id);
            if (r.firstMs === undefined) {
              r.firstMs = clock.now - t0;
              r.hops = e.from.equals(self) ? 0 : depth.get(e.from.toString()) ?? 1;
              r.requestsToFirst = r.requests;
              grace = setTimeout(() => stop.abort(new Error("grace")), options.graceMs ?? 200);
            }
          }
          r.found = seen.size;
          if (seen.size >= (options.max ?? 8)) break;
        }
      }
    } catch {
      // budget or grace over
    } finally {
      clearTimeout(budget);
      clearTimeout(grace);
      finished = true;
    }
  })();
  await clock.run({ done: () => finished });
  if (!stop.signal.aborted) stop.abort(new Error("done"));
  r.totalMs = clock.now - t0;
  return r;
}

/** p-th percentile (0–100) of `values` (nearest rank), undefined when empty. */
export function pct(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Summary of many lookups. */
export interface LookupSummary {
  lookups: number;
  /** Share that found a provider within the budget, and within 2 s (the daemon's base budget). */
  /** Percentiles are over every lookup, one that found nothing counting as Infinity. */
  success: number;
  successIn2s: number;
  p50: number | undefined;
  p95: number | undefined;
  p99: number | undefined;
  /** Hop counts of the first provider's answer: mean and distribution. */
  hopsMean: number | undefined;
  hops: Record<string, number>;
  requestsToFirstMean: number | undefined;
  requestsMean: number;
  errorsMean: number;
}

/** Summarises lookups (latency percentiles over the successful ones). */
export function summarize(results: LookupResult[]): LookupSummary {
  const ok = results.filter((r) => r.firstMs !== undefined);
  // A lookup that found nothing counts as infinitely slow: percentiles cover every lookup.
  const times = results.map((r) => r.firstMs ?? Infinity);
  const hops: Record<string, number> = {};
  for (const r of ok) hops[String(r.hops)] = (hops[String(r.hops)] ?? 0) + 1;
  const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
  return {
    lookups: results.length,
    success: ok.length / Math.max(1, results.length),
    successIn2s: times.filter((t) => t <= 2000).length / Math.max(1, results.length),
    p50: pct(times, 50),
    p95: pct(times, 95),
    p99: pct(times, 99),
    hopsMean: mean(ok.map((r) => r.hops!)),
    hops,
    requestsToFirstMean: mean(ok.map((r) => r.requestsToFirst!)),
    requestsMean: mean(results.map((r) => r.requests)) ?? 0,
    errorsMean: mean(results.map((r) => r.errors)) ?? 0,
  };
}
