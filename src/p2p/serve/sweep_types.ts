/**
 * Types of the sweep provider (./sweep_provider.ts): its events, the DHT it
 * uses, its options and counters.
 *
 * @example
 * ```ts
 * import type { SweepDht } from "./sweep_types.ts";
 * const dht: SweepDht = libp2pSweepDht(() => node, { protocol: "/guix-p2p/kad/1.0.0" });
 * ```
 * @module
 */
import type { Clock } from "../rate/clock.ts";
import type { Candidate } from "./regions.ts";

/** Events of provider records. */
export interface ProviderEvents {
  /** A key's first announcement finished (error: no peer took it). */
  "provide:done": { narHash: string; ms: number; error?: string };
  /** A batch (new keys, or a stretch of the sweep) finished. */
  "provide:sweep": {
    reason: "new" | "sweep";
    keys: number;
    regions: number;
    lookups: number;
    peers: number;
    messages: number;
    failedPeers: number;
    ms: number;
  };
}

/** The DHT as the sweep provider uses it (libp2p adapter: ./libp2p_sweep_dht.ts). */
export interface SweepDht {
  /**
   * A closest-peers lookup of `key` (multihash bytes): the peers that
   * answered, closest first (`closest`), and every other peer named in the
   * answers (`heard`).
   */
  lookup(
    key: Uint8Array,
    options: { signal: AbortSignal },
  ): Promise<{ closest: Candidate[]; heard: Candidate[] }>;
  /** DHT servers in the routing table (a lower bound of the network size). */
  tableSize(): number;
  /** Sends ADD_PROVIDER for each of `keys` (multihash bytes) to `peer`, on one stream. */
  send(peer: string, keys: Uint8Array[], options: { signal: AbortSignal }): Promise<void>;
  /** Keeps (`true`) or drops our own record of `key`, so that GET_PROVIDERS to us names us. */
  keepSelf(key: Uint8Array, keep: boolean): void;
}

/** Options of `SweepProvider`. */
export interface SweepProviderInit {
  dht: SweepDht;
  /** Reprovide interval: every key is sent once per interval. */
  intervalMs: number;
  clock?: Clock;
  /** Peers each record goes to (default 20). */
  replication?: number;
  /** Records sent to one peer per second past the burst (default 25). */
  peerRate?: number;
  /** Records sent to one peer at once (default 500). */
  peerBurst?: number;
  /** Peers sent to at once, per region (default 10). */
  sendConcurrency?: number;
  /** Regions handled at once (default 4). */
  regionConcurrency?: number;
  /** New keys wait this long for others to batch with (default 1000 ms). */
  debounceMs?: number;
  /**
   * Keys provided `later` (auto-seeded after a substitution) wait until none
   * was for this long (default 5 s), at most `laterMaxMs` (default 30 s).
   */
  laterQuietMs?: number;
  laterMaxMs?: number;
  /** Bound on one lookup (default 60 s) and one peer's stream (default 60 s). */
  timeoutMs?: number;
  emit?: <K extends keyof ProviderEvents>(type: K, payload: ProviderEvents[K]) => void;
}

/** Counters of `SweepProvider.stats`. */
export interface SweepStats {
  keys: number;
  /** Current estimate of the number of DHT servers. */
  networkSize: number;
  regionBits: number;
  lookups: number;
  messages: number;
  batches: number;
}
