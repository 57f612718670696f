/**
 * What the dashboard reads, and the shapes it serves. The daemon adapts its
 * parts to {@linkcode DashboardSource} (src/daemon/dashboard_source.ts); the
 * dashboard never reaches into the daemon or the P2P layer itself. Events
 * come through an {@linkcode EventFeed} (the daemon's event bus).
 *
 * @example
 * ```ts
 * import type { DashboardSource } from "./source.ts";
 * const source: DashboardSource = {
 *   status: () => Promise.resolve(status),
 *   peers: () => Promise.resolve([]),
 *   seeds: () => Promise.resolve([]),
 *   shareInfo: () => Promise.resolve(info),
 * };
 * ```
 * @module
 */
import type { ShareInfo } from "../p2p/share_info.ts";

export type { ShareInfo };

/** The node's status (`/api/status`). */
export interface NodeStatus {
  version: string;
  pid: number;
  uptimeSeconds: number;
  /** The fetch policy (`p2p-first`, ...). */
  policy: string;
  storeDir: string;
  substituteUrls: string[];
  /** The P2P node, null when it does not run. */
  p2p: {
    peerId: string | null;
    /** The node's listen (or announce) multiaddrs. */
    listen: string[];
    dhtMode: string;
    /** Peers in the DHT routing table. */
    dhtPeers: number;
    /** Open libp2p connections. */
    connections: number;
    /** Items seeded. */
    seeds: number;
    /** Bytes in the block cache. */
    cacheBytes: number;
    /** NAT traversal (docs/protocol.md §5), null when not reported. */
    nat: NatView | null;
  } | null;
}

/** What the page shows of NAT traversal. */
export interface NatView {
  /** `public`, `private` or `unknown` (AutoNAT). */
  reachability: string;
  autonat: boolean;
  /** Relays this node holds a reservation on. */
  relayReservations: string[];
  /** This node offers a relay (`relay_service`). */
  relayService: boolean;
  holePunching: boolean;
  /** Relayed connections upgraded to direct ones (DCUtR). */
  directUpgrades: number;
  /** UPnP mapping state (`off`, `idle`, `searching`, `mapped`). */
  upnp: string;
  /** Block bytes received directly and through relays. */
  bytesDirect: number;
  bytesRelayed: number;
}

/** One peer (`/api/peers`): connected ones and remembered ones. */
export interface PeerView {
  peerId: string;
  connected: boolean;
  addresses: string[];
  /** The agent string the peer announced (peer-supplied text). */
  agent: string | null;
  latencyMs: number | null;
  bytesUp: number;
  bytesDown: number;
  faults: number;
  score: number;
  banned: boolean;
}

/** One seeded item (`/api/seeds`). */
export interface SeedView {
  narHash: string;
  storePath: string | null;
  narSize: number;
  /** `store` (read from the store item) or `cache` (a verified copy in the block cache). */
  kind: string;
  /** `explicit`, `config`, `auto` or `cache`. */
  origin: string;
}

/** The data the dashboard shows, read on demand. */
export interface DashboardSource {
  /** The node's status. */
  status(): Promise<NodeStatus>;
  /** Peers, connected first. */
  peers(): Promise<PeerView[]>;
  /** Seeded items. */
  seeds(): Promise<SeedView[]>;
  /** The share information (paste-ready bootstrap lines). */
  shareInfo(): Promise<ShareInfo>;
}

/** Where typed events come from (the daemon's EventBus satisfies it). */
export interface EventFeed {
  /** Calls `fn` for every event; returns an unsubscribe function. */
  onAny(fn: (type: string, payload: unknown) => void): () => void;
}
