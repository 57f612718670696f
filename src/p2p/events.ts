/**
 * Events of the P2P layer (name → payload): the union of every part's
 * events, so the daemon's bus, its log and the dashboard see them all.
 *
 * @example
 * ```ts
 * import type { P2pEvents } from "./events.ts";
 * const onBan = (e: P2pEvents["peer:penalised"]) => e.banned && console.log("banned", e.peer);
 * ```
 * @module
 */
import type { PrefetchEvents } from "./download/prefetch.ts";
import type { RegistryEvents } from "./download/registry.ts";
import type { SourceEvents } from "./download/sources.ts";
import type { WholeFetchEvents } from "./download/whole.ts";
import type { NatEvents } from "./nat/mod.ts";
import type { NarinfoEvents } from "./narinfo/mod.ts";
import type { BlockServerEvents } from "./serve/block_server.ts";
import type { BulkEvents } from "./serve/deno_bulk_listener.ts";
import type { ProviderEvents } from "./serve/sweep_provider.ts";
import type { SeedingEvents } from "./serve/seeding.ts";
import type { UpkeepEvents } from "./upkeep.ts";

/** P2P events. */
export interface P2pEvents
  extends
    BlockServerEvents,
    BulkEvents,
    SourceEvents,
    WholeFetchEvents,
    RegistryEvents,
    PrefetchEvents,
    ProviderEvents,
    SeedingEvents,
    UpkeepEvents,
    NatEvents,
    NarinfoEvents {
  "p2p:started": { peerId: string; addresses: string[]; dhtMode: string };
  "dht:size": { peers: number };
}

/** Emits P2P events. */
export type P2pEmitter = <K extends keyof P2pEvents>(type: K, payload: P2pEvents[K]) => void;

/**
 * The same emitter typed for one part's events (each part's events are a
 * subset of {@linkcode P2pEvents}, which the interface above checks).
 *
 * @example
 * ```ts
 * import { partEmitter, type P2pEmitter } from "./events.ts";
 * import type { ProviderEvents } from "./serve/sweep_provider.ts";
 * const emit: P2pEmitter = () => {};
 * partEmitter<ProviderEvents>(emit)("provide:done", { narHash: "ab", ms: 1 });
 * ```
 */
export function partEmitter<E>(
  emit: P2pEmitter,
): <K extends keyof E>(type: K, payload: E[K]) => void {
  return emit as unknown as <K extends keyof E>(type: K, payload: E[K]) => void;
}
