/**
 * Keeping in touch with peers: records what identify says about each peer
 * and the round trip libp2p's connection monitor measures on each
 * connection, dials what mDNS discovers on the local network (and what the
 * DHT tells about, while connections are few), re-dials bootstrap and
 * remembered peers while few connections are open, refreshes a DHT routing
 * table that missed peers it knows of, and saves the peer book now and then
 * (so a restarted node finds its neighbours again).
 *
 * Latency: libp2p pings every open connection every 10 s and keeps the round
 * trip in `connection.rtt` (with peers that do not speak ping, such as the
 * original Rust guix-p2p, it times the protocol negotiation instead). A ping
 * of our own once after identify is not used: it failed for those peers and,
 * sharing ping's single outbound stream per connection with the monitor, it
 * could make the monitor's ping fail and abort the connection; once failed,
 * the latency stayed unknown for good.
 *
 * @example
 * ```ts
 * const upkeep = new PeerUpkeep({ node, peerBook, config, emit, save });
 * upkeep.start();
 * upkeep.stop();
 * ```
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import type { PeerId } from "@libp2p/interface";
import type { P2pNode } from "./node.ts";
import type { PeerBook } from "./peer_book.ts";

/** Kademlia's bucket size: a smaller routing table may be missing peers. */
const DHT_K = 20;
/** How often a small routing table is checked, and the longest back-off. */
const DHT_REFRESH_MS = 30_000;
const DHT_REFRESH_MAX_MS = 10 * 60_000;

/** Events of peer upkeep. */
export interface UpkeepEvents {
  "peer:connected": { peer: string; address: string };
  "peer:disconnected": { peer: string };
  /** A peer found by mDNS (`via: "mdns"`, on the local network) or learned through the DHT. */
  "peer:discovered": { peer: string; addresses: string[]; via: "mdns" | "dht" };
  /** The first round trip measured to a peer since it connected. */
  "peer:latency": { peer: string; ms: number };
}

/** The smallest round trip among `connections` (ms), if any was measured. */
export function connectionsRtt(connections: readonly { rtt?: number }[]): number | undefined {
  let best: number | undefined;
  for (const c of connections) {
    if (typeof c.rtt === "number" && Number.isFinite(c.rtt) && c.rtt >= 0) {
      best = best === undefined ? c.rtt : Math.min(best, c.rtt);
    }
  }
  return best === undefined ? undefined : Math.round(best);
}

/** How often connection round trips are copied into the peer book. */
const LATENCY_SAMPLE_MS = 2000;

/** Options of {@linkcode PeerUpkeep}. */
export interface PeerUpkeepInit {
  node: P2pNode;
  peerBook: PeerBook;
  bootstrapPeers: string[];
  maxConnections: number;
  /** The DHT's protocol id (to count the DHT peers the node knows of). */
  dhtProtocol?: string;
  /** Persists the peer book (called every 30 s when it changed). */
  save: () => Promise<void>;
  /** Called when a peer's connections are all gone. */
  onDisconnect?: (peer: string) => void;
  emit: <K extends keyof UpkeepEvents>(type: K, payload: UpkeepEvents[K]) => void;
}

/** The upkeep loop. */
export class PeerUpkeep {
  #o: PeerUpkeepInit;
  #timers: ReturnType<typeof setInterval>[] = [];
  #running = false;
  #measured = new Set<string>();
  #refreshing = false;
  /** When the routing table may next be refreshed, the current back-off, its size then. */
  #dht = { at: 0, delay: DHT_REFRESH_MS / 2, table: -1 };

  /** Creates the upkeep (call {@linkcode start} once the node is started). */
  constructor(init: PeerUpkeepInit) {
    this.#o = init;
    const { node, peerBook } = init;
    node.addEventListener("peer:identify", (ev) => {
      const d = ev.detail;
      peerBook.seen(d.peerId.toString(), d.listenAddrs.map(String), d.agentVersion);
    });
    node.addEventListener("connection:open", (ev) => {
      init.emit("peer:connected", {
        peer: ev.detail.remotePeer.toString(),
        address: ev.detail.remoteAddr.toString(),
      });
    });
    node.addEventListener("peer:disconnect", (ev) => {
      const peer = ev.detail.toString();
      this.#measured.delete(peer);
      init.onDisconnect?.(peer);
      init.emit("peer:disconnected", { peer });
    });
    // libp2p no longer dials discovered peers by itself. mDNS finds peers on
    // the local network; everything else in `peer:discovery` (a peer new to
    // the peer store) comes from the DHT's queries.
    const local = new Set<string>();
    node.services.mdns?.addEventListener("peer", (ev) => {
      const peer = ev.detail.id.toString();
      local.add(peer);
      if (local.size > 1024) local.delete(local.values().next().value!);
      this.#discovered(ev.detail.id, ev.detail.multiaddrs.map(String), "mdns");
    });
    node.addEventListener("peer:discovery", (ev) => {
      if (local.has(ev.detail.id.toString())) return; // handled as mDNS above
      this.#discovered(ev.detail.id, ev.detail.multiaddrs.map(String), "dht");
    });
  }

  #discovered(id: PeerId, addresses: string[], via: "mdns" | "dht"): void {
    const { node, peerBook } = this.#o;
    const peer = id.toString();
    if (!this.#running || peerBook.isBanned(peer) || id.equals(node.peerId)) return;
    if (
      node.getConnections(id).length > 0 ||
      node.getConnections().length >= this.#o.maxConnections
    ) return;
    this.#o.emit("peer:discovered", { peer, addresses, via });
    node.dial(id, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
  }

  /**
   * Copies each connected peer's round trip (libp2p's connection monitor
   * measures it every 10 s) into the peer book; the first one for a
   * connection is an event.
   */
  sampleLatency(): void {
    const { node, peerBook } = this.#o;
    const byPeer = new Map<string, { rtt?: number }[]>();
    for (const c of node.getConnections()) {
      const id = c.remotePeer.toString();
      byPeer.set(id, [...(byPeer.get(id) ?? []), c]);
    }
    for (const [peer, conns] of byPeer) {
      const ms = connectionsRtt(conns);
      if (ms === undefined) continue;
      peerBook.latency(peer, ms);
      if (!this.#measured.has(peer)) {
        this.#measured.add(peer);
        this.#o.emit("peer:latency", { peer, ms });
      }
    }
  }

  /** Dials the bootstrap and remembered peers, and keeps doing so while few are connected. */
  start(): void {
    this.#running = true;
    this.#connect();
    this.#timers.push(setInterval(() => this.#save(), 30_000));
    this.#timers.push(setInterval(() => this.#connect(), 60_000));
    this.#timers.push(setInterval(() => this.sampleLatency(), LATENCY_SAMPLE_MS));
    this.#timers.push(setInterval(() => void this.#refreshDht(), DHT_REFRESH_MS));
  }

  /** Stops the timers and saves the peer book. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const t of this.#timers) clearInterval(t);
    await this.#save();
  }

  async #save(): Promise<void> {
    if (this.#o.peerBook.dirty) await this.#o.save().catch(() => {});
  }

  /**
   * A routing table that holds fewer than k peers while the node knows of
   * more DHT peers means some dials of the last self-query failed (a busy
   * host, a flaky link); kad-dht would retry only at its next self-query,
   * minutes later. Refresh it now; while refreshes do not grow the table
   * (peers reachable only through relays never enter it), back off up to
   * 10 minutes.
   */
  async #refreshDht(): Promise<void> {
    const { node, dhtProtocol } = this.#o;
    const now = Date.now();
    if (!this.#running || !dhtProtocol || this.#refreshing || now < this.#dht.at) return;
    const table = (node.services.dht as unknown as { routingTable?: { size?: number } })
      .routingTable?.size ?? 0;
    if (table >= DHT_K) return;
    this.#refreshing = true;
    try {
      const known = await node.peerStore.all({
        filters: [(p) => p.protocols.includes(dhtProtocol)],
      });
      if (known.length <= table) return;
      this.#dht.delay = table > this.#dht.table
        ? DHT_REFRESH_MS
        : Math.min(this.#dht.delay * 2, DHT_REFRESH_MAX_MS);
      this.#dht.table = table;
      this.#dht.at = now + this.#dht.delay - 1000;
      await node.services.dht.refreshRoutingTable();
    } catch {
      // best effort; the next tick tries again
    } finally {
      this.#refreshing = false;
    }
  }

  /** Dials bootstrap peers and remembered peers when few connections are open. */
  #connect(): void {
    const { node, peerBook } = this.#o;
    if (!this.#running) return;
    if (node.getConnections().length >= Math.min(8, this.#o.maxConnections)) return;
    const targets = [...this.#o.bootstrapPeers];
    const connected = new Set(node.getConnections().map((c) => c.remotePeer.toString()));
    for (const p of peerBook.list().slice(0, 20)) {
      if (peerBook.isBanned(p.id) || connected.has(p.id)) continue;
      for (const a of p.addresses.slice(0, 2)) {
        targets.push(a.includes("/p2p/") ? a : `${a}/p2p/${p.id}`);
      }
    }
    for (const t of targets) {
      let ma;
      try {
        ma = multiaddr(t);
      } catch {
        continue;
      }
      node.dial(ma, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
    }
  }
}
