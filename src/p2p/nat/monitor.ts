/**
 * The node's NAT traversal state and policy, as a libp2p service (it needs
 * the address and transport managers, which libp2p hands only to services):
 *
 * - reachability from the internet (./reachability.ts), re-judged whenever
 *   the node's addresses change (AutoNAT confirmations, relay reservations,
 *   UPnP mappings) and every 10 s;
 * - relay reservations: while the node is not publicly reachable (private,
 *   or unknown for 30 s), it reserves a slot on up to two connected peers
 *   that offer a relay (they list the circuit relay v2 hop protocol in
 *   identify), by listening on `<relay>/p2p-circuit`; a relay that refuses
 *   is not asked again for 10 minutes. No random walk is started to find
 *   relays: candidates are the peers the node meets anyway (bootstrap, DHT);
 * - UPnP: started only while the node is private and listens on a LAN
 *   address; it searches for a gateway once a minute and announces a mapped
 *   address (trusted: the router itself reports the mapping);
 * - direct upgrades: a direct connection opening to a peer we reach through
 *   a relay (DCUtR hole punching or connection reversal) is counted.
 *
 * Changes are reported through `emit` (the daemon logs them).
 *
 * @example
 * ```ts
 * const services = { nat: natMonitor({ relayClient: true, upnp: true, emit }) };
 * node.services.nat.snapshot().reachability; // "private"
 * ```
 * @module
 */
import type {
  ComponentLogger,
  Connection,
  IdentifyResult,
  Libp2pEvents,
  NodeInfo,
  PeerId,
  Startable,
  TypedEventTarget,
} from "@libp2p/interface";
import type {
  AddressManager,
  ConnectionManager,
  TransportManager,
} from "@libp2p/interface-internal";
import { multiaddr } from "@multiformats/multiaddr";
import {
  ipOf,
  isPublicAddress,
  isRelayed,
  type Reachability,
  reachability,
  type ReachabilityReport,
} from "./reachability.ts";

/** The hop protocol a relay lists in identify. */
export const RELAY_HOP_PROTOCOL = "/libp2p/circuit/relay/0.2.0/hop";
/** Relays a private node holds reservations on. */
export const WANTED_RELAYS = 2;
/** A relay that refused is not asked again for this long. */
const RELAY_RETRY_MS = 10 * 60_000;
/** An unknown reachability counts as private after this long. */
const UNKNOWN_GRACE_MS = 30_000;

/** Events of the NAT monitor. */
export interface NatEvents {
  "nat:reachability": { reachability: Reachability; addresses: string[] };
  "relay:reserved": { relay: string; addresses: string[] };
  "relay:lost": { relay: string };
  "relay:refused": { relay: string; error: string };
  "nat:direct": { peer: string; address: string };
  "nat:upnp": { state: "searching" | "mapped"; addresses: string[] };
  /** As a relay: a peer asked to be connected to another through us. */
  "relay:circuit": { source: string; target: string; denied: boolean };
}

/** Components libp2p gives the service. */
export interface NatMonitorComponents {
  addressManager: AddressManager;
  transportManager: TransportManager;
  connectionManager: ConnectionManager;
  events: TypedEventTarget<Libp2pEvents>;
  peerId: PeerId;
  logger: ComponentLogger;
  nodeInfo: NodeInfo;
}

/** Options of {@linkcode natMonitor}. */
export interface NatMonitorInit {
  /** Reserve relay slots while not publicly reachable. */
  relayClient: boolean;
  /** Ask the router for a port mapping (UPnP) while private. */
  upnp: boolean;
  emit?: <K extends keyof NatEvents>(type: K, payload: NatEvents[K]) => void;
}

/** What the monitor knows (part of `status`). */
export interface NatSnapshot extends ReachabilityReport {
  /** Relays holding a reservation for us, with our addresses through each. */
  reservations: { relay: string; addresses: string[] }[];
  /** Relayed connections replaced by direct ones (DCUtR or connection reversal). */
  directUpgrades: number;
  upnp: { state: "off" | "idle" | "searching" | "mapped"; addresses: string[] };
}

interface Candidate {
  address: string;
  refusedAt?: number;
}

/** The service. */
export class NatMonitor implements Startable {
  #c: NatMonitorComponents;
  #o: NatMonitorInit;
  #timer: ReturnType<typeof setInterval> | undefined;
  #report: ReachabilityReport = { reachability: "unknown", publicAddresses: [], unconfirmed: [] };
  #unknownSince = Date.now();
  #relays = new Map<string, string[]>();
  #candidates = new Map<string, Candidate>();
  #reserving = false;
  #upgrades = 0;
  #upnp: Startable | undefined;
  #upnpStarting: Promise<unknown> | undefined;
  #upnpState: NatSnapshot["upnp"]["state"];
  #running = false;

  /** Created by libp2p through {@linkcode natMonitor}. */
  constructor(components: NatMonitorComponents, init: NatMonitorInit) {
    this.#c = components;
    this.#o = init;
    this.#upnpState = init.upnp ? "idle" : "off";
  }

  /** Subscribes to the node's events. */
  start(): void {
    this.#running = true;
    const ev = this.#c.events;
    ev.addEventListener("self:peer:update", this.#onUpdate);
    ev.addEventListener("peer:identify", this.#onIdentify);
    ev.addEventListener("peer:disconnect", this.#onDisconnect);
    ev.addEventListener("connection:open", this.#onConnection);
  }

  /** First judgement once the transports listen; then every 10 s. */
  afterStart(): void {
    this.#evaluate();
    this.#timer = setInterval(() => this.#evaluate(), 10_000);
    (this.#timer as unknown as { unref?: () => void }).unref?.();
  }

  /** Unsubscribes and stops UPnP. */
  async stop(): Promise<void> {
    this.#running = false;
    clearInterval(this.#timer);
    const ev = this.#c.events;
    ev.removeEventListener("self:peer:update", this.#onUpdate);
    ev.removeEventListener("peer:identify", this.#onIdentify);
    ev.removeEventListener("peer:disconnect", this.#onDisconnect);
    ev.removeEventListener("connection:open", this.#onConnection);
    await this.#upnpStarting;
    await this.#upnp?.stop();
  }

  /** The current state. */
  snapshot(): NatSnapshot {
    return {
      ...this.#report,
      reservations: [...this.#relays].map(([relay, addresses]) => ({ relay, addresses })),
      directUpgrades: this.#upgrades,
      upnp: { state: this.#upnpState, addresses: this.#mappedAddresses() },
    };
  }

  #emit<K extends keyof NatEvents>(type: K, payload: NatEvents[K]): void {
    this.#o.emit?.(type, payload);
  }

  #onUpdate = () => this.#evaluate();

  #onIdentify = (ev: CustomEvent<IdentifyResult>) => {
    const { peerId, protocols, listenAddrs, connection } = ev.detail;
    if (!protocols.includes(RELAY_HOP_PROTOCOL) || isRelayed(connection.remoteAddr.toString())) {
      return;
    }
    // Any address will do while connected (the open connection is reused);
    // prefer the one we dialled, else what the relay announces.
    const base = connection.direction === "outbound"
      ? connection.remoteAddr.toString()
      : (listenAddrs.map(String).find(isPublicAddress) ?? listenAddrs[0]?.toString() ??
        connection.remoteAddr.toString());
    const id = peerId.toString();
    const plain = base.replace(/\/p2p\/[^/]+$/, "");
    const previous = this.#candidates.get(id);
    this.#candidates.set(id, {
      address: `${plain}/p2p/${id}/p2p-circuit`,
      ...(previous?.refusedAt !== undefined ? { refusedAt: previous.refusedAt } : {}),
    });
    this.#evaluate();
  };

  #onDisconnect = (ev: CustomEvent<PeerId>) => {
    const c = this.#candidates.get(ev.detail.toString());
    if (c && c.refusedAt === undefined) this.#candidates.delete(ev.detail.toString());
  };

  #onConnection = (ev: CustomEvent<Connection>) => {
    const conn = ev.detail;
    const address = conn.remoteAddr.toString();
    if (isRelayed(address)) return;
    const relayed = this.#c.connectionManager.getConnections(conn.remotePeer).some((c) =>
      c !== conn && c.status === "open" && isRelayed(c.remoteAddr.toString())
    );
    if (!relayed) return;
    this.#upgrades++;
    this.#emit("nat:direct", { peer: conn.remotePeer.toString(), address });
  };

  #evaluate(): void {
    if (!this.#running) return;
    const now = Date.now();
    const meta = this.#c.addressManager.getAddressesWithMetadata().map((a) => ({
      multiaddr: a.multiaddr.toString(),
      verified: a.verified,
      expires: a.expires,
    }));
    const report = reachability(meta, now);
    if (report.reachability !== this.#report.reachability) {
      if (report.reachability === "unknown") this.#unknownSince = now;
      this.#emit("nat:reachability", {
        reachability: report.reachability,
        addresses: report.publicAddresses,
      });
    }
    this.#report = report;
    this.#mappedAddresses();
    this.#trackRelays();
    this.#maybeReserve(now);
    this.#maybeUpnp();
  }

  /** Relays we hold reservations on, from our own `/p2p-circuit` addresses. */
  #trackRelays(): void {
    const now = new Map<string, string[]>();
    for (const ma of this.#c.addressManager.getAddresses().map(String)) {
      const m = /\/p2p\/([^/]+)\/p2p-circuit/.exec(ma);
      if (m) now.set(m[1]!, [...(now.get(m[1]!) ?? []), ma]);
    }
    for (const [relay, addresses] of now) {
      if (!this.#relays.has(relay)) this.#emit("relay:reserved", { relay, addresses });
    }
    for (const relay of this.#relays.keys()) {
      if (!now.has(relay)) this.#emit("relay:lost", { relay });
    }
    this.#relays = now;
  }

  #maybeReserve(now: number): void {
    if (!this.#o.relayClient || this.#reserving || this.#relays.size >= WANTED_RELAYS) return;
    const r = this.#report.reachability;
    if (r === "public" || (r === "unknown" && now - this.#unknownSince < UNKNOWN_GRACE_MS)) return;
    const pick = [...this.#candidates].find(([id, c]) =>
      !this.#relays.has(id) &&
      (c.refusedAt === undefined || now - c.refusedAt > RELAY_RETRY_MS) &&
      this.#c.connectionManager.getConnections().some((conn) =>
        conn.remotePeer.toString() === id && !isRelayed(conn.remoteAddr.toString())
      )
    );
    if (!pick) return;
    const [relay, candidate] = pick;
    this.#reserving = true;
    this.#c.transportManager.listen([multiaddr(candidate.address)])
      .catch((e: Error) => {
        candidate.refusedAt = Date.now();
        this.#emit("relay:refused", { relay, error: e.message.split("\n")[0]! });
      })
      .finally(() => {
        this.#reserving = false;
        this.#evaluate();
      });
  }

  #maybeUpnp(): void {
    if (this.#upnpState !== "idle" || this.#report.reachability !== "private") return;
    const lan = this.#c.transportManager.getAddrs().map(String).some((a) => {
      const ip = ipOf(a);
      return ip !== undefined && a.startsWith("/ip4/") && !ip.startsWith("127.") && !isRelayed(a);
    });
    if (!lan) return;
    this.#upnpState = "searching";
    this.#emit("nat:upnp", { state: "searching", addresses: [] });
    // Loaded only now: @libp2p/upnp-nat costs ~4 MB of RSS in every daemon that imports
    // it, and only a private node with a LAN address ever uses it (docs/benchmarks.md).
    this.#upnpStarting = import("@libp2p/upnp-nat").then(({ uPnPNAT }) => {
      if (!this.#running) return;
      this.#upnp = uPnPNAT({
        autoConfirmAddress: true,
        initialGatewaySearchInterval: 60_000,
        initialGatewaySearchTimeout: 5_000,
        portMappingDescription: `guix-p2p ${this.#c.peerId.toString()}`,
      })(this.#c) as unknown as Startable;
      Promise.resolve(this.#upnp.start()).catch(() => {
        // no UPnP here: stays "searching" quietly
      });
    }).catch(() => {
      // the module failed to load: stays "searching" quietly
    });
  }

  #mappedAddresses(): string[] {
    const mapped = this.#c.addressManager.getAddressesWithMetadata()
      .filter((a) => a.type === "ip-mapping" && a.verified).map((a) => a.multiaddr.toString());
    if (mapped.length > 0 && this.#upnpState === "searching") {
      this.#upnpState = "mapped";
      this.#emit("nat:upnp", { state: "mapped", addresses: mapped });
    }
    return mapped;
  }
}

/** The libp2p service factory. */
export function natMonitor(
  init: NatMonitorInit,
): (components: NatMonitorComponents) => NatMonitor {
  return (components) => new NatMonitor(components, init);
}
