/**
 * Provider discovery for one NAR through the DHT, within a time budget that
 * grows with the NAR's size (a few hundred milliseconds are not worth
 * spending on a 10 KiB item, seconds are on a GiB).
 *
 * @example
 * ```ts
 * const budget = discoveryBudgetMs(narSize, config.discovery_timeout);
 * const providers = await findProviders(node, narHash, { budgetMs: budget, min: 1, max: 8 });
 * ```
 * @module
 */
import type { PeerId, PeerInfo } from "@libp2p/interface";
import { narCid } from "./content_key.ts";
import type { P2pNode } from "./node.ts";

/**
 * Time to look for providers: `base` seconds for a 64 MiB NAR, scaled
 * linearly with size and clamped to [base/4, 4·base].
 */
export function discoveryBudgetMs(narSize: number, baseSeconds: number): number {
  const scale = Math.min(4, Math.max(0.25, narSize / (64 * 1024 * 1024)));
  return Math.round(baseSeconds * 1000 * scale);
}

/** Options of {@linkcode findProviders}. */
export interface FindProvidersOptions {
  /** Give up after this long. */
  budgetMs: number;
  /** Once this many are found, wait only `graceMs` more for others. */
  min: number;
  /** Stop at this many. */
  max: number;
  /** Extra time to collect more providers after reaching `min`. Default 200 ms. */
  graceMs?: number;
  /** Providers to skip (banned, self). */
  exclude?: (peer: PeerId) => boolean;
  signal?: AbortSignal | undefined;
}

/** Providers of the NAR `narHash`, found within the budget (possibly fewer than `min`). */
export async function findProviders(
  node: P2pNode,
  narHash: Uint8Array,
  options: FindProvidersOptions,
): Promise<PeerInfo[]> {
  const found = new Map<string, PeerInfo>();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const budget = setTimeout(
    () => controller.abort(new Error("discovery budget spent")),
    options.budgetMs,
  );
  let grace: ReturnType<typeof setTimeout> | undefined;
  try {
    for await (
      const provider of node.contentRouting.findProviders(narCid(narHash), {
        signal: controller.signal,
      })
    ) {
      if (provider.id.equals(node.peerId) || options.exclude?.(provider.id)) continue;
      found.set(provider.id.toString(), provider);
      if (found.size >= options.max) break;
      if (found.size >= options.min && grace === undefined) {
        grace = setTimeout(
          () => controller.abort(new Error("grace period over")),
          options.graceMs ?? 200,
        );
      }
    }
  } catch (e) {
    if (options.signal?.aborted) throw e;
    // budget or grace expired, or the DHT query failed: use what was found
  } finally {
    clearTimeout(budget);
    if (grace !== undefined) clearTimeout(grace);
    options.signal?.removeEventListener("abort", onAbort);
  }
  return [...found.values()];
}
