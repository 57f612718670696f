/**
 * Events of the P2P layer (name → payload).
 *
 * @example
 * ```ts
 * import type { P2pEvents } from "./events.ts";
 * const onBan = (e: P2pEvents["peer:penalised"]) => e.banned && console.log("banned", e.peer);
 * ```
 * @module
 */
import type { BlockServerEvents } from "./block_server.ts";
import type { DownloadEvents } from "./swarm_download.ts";

/** P2P events. */
export interface P2pEvents extends BlockServerEvents, DownloadEvents {
  "p2p:started": { peerId: string; addresses: string[]; dhtMode: string };
  "peer:connected": { peer: string; address: string };
  "peer:disconnected": { peer: string };
  "peer:discovered": { peer: string; addresses: string[] };
  "dht:size": { peers: number };
  "providers:found": { narHash: string; count: number; ms: number };
  "provide:done": { narHash: string; ms: number; error?: string };
  "seed:added": { narHash: string; storePath: string | undefined; origin: string };
  "seed:removed": { narHash: string };
  "manifest:rejected": { narHash: string; peer: string; reason: string };
}
