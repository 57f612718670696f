/**
 * The libp2p node: TCP + Noise + Yamux, identify, ping, a Kademlia DHT on
 * guix-p2p's own protocol id, optional mDNS, connection limits, and NAT
 * traversal (AutoNAT, circuit relay v2, DCUtR, UPnP: ./nat/), all from the
 * configuration. libp2p's connection monitor pings every connection
 * every 10 s (`/ipfs/ping/1.0.0`, or the protocol negotiation alone with
 * peers that lack ping) and keeps the round trip in `connection.rtt`.
 *
 * Under Deno, {@linkcode createNode} first applies the runtime patches of
 * `./runtime_patches.ts` (without them the process would not exit after
 * `stop()`).
 *
 * @example
 * ```ts
 * const node = await createNode(config, privateKey);
 * await node.start();
 * ```
 * @module
 */
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import type { PeerDiscovery, PeerId, PrivateKey } from "@libp2p/interface";
import { type KadDHT, kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { mdns } from "@libp2p/mdns";
import { ping } from "@libp2p/ping";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import { tcp } from "@libp2p/tcp";
import { createLibp2p, type Libp2p } from "libp2p";
import type { Config } from "../config/schema.ts";
import { VERSION } from "../version.ts";
import { dialDenier } from "./dial_policy.ts";
import {
  GuardedDatastore,
  ProviderStore,
  type ProviderStoreStats,
  responsibleFor,
} from "./dht/mod.ts";
import { applyDenoLibp2pPatches } from "./runtime_patches.ts";
import {
  type NatEvents,
  type NatMonitor,
  natServices,
  natTransports,
  relayGater,
} from "./nat/mod.ts";

/** The services our node runs. */
export type NodeServices = {
  identify: ReturnType<ReturnType<typeof identify>>;
  ping: ReturnType<ReturnType<typeof ping>>;
  dht: KadDHT;
  /**
   * mDNS (when `mdns = true`): a service rather than a plain peer-discovery
   * module, so that what it finds on the local network can be told apart
   * from what the DHT finds (both end up as libp2p `peer:discovery`).
   */
  mdns?: PeerDiscovery;
  /** NAT traversal state and policy (./nat/monitor.ts). */
  nat: NatMonitor;
  /** With relay_service: the relay (its `reservations` map). */
  relay?: { reservations: { size: number } };
};

/** A guix-p2p libp2p node. */
export type P2pNode = Libp2p<NodeServices>;

/** Whether the DHT runs in server mode for this configuration. */
export function dhtServerMode(config: Pick<Config, "dht_mode" | "listen">): boolean {
  return config.dht_mode === "server" || (config.dht_mode === "auto" && config.listen.length > 0);
}

/** Hooks of {@linkcode createNode}. */
export interface NodeHooks {
  /** Banned peers are neither dialled nor accepted. */
  isBanned?: (peer: PeerId) => boolean;
  /** NAT traversal events (reachability, relay reservations, direct upgrades). */
  emit?: <K extends keyof NatEvents>(type: K, payload: NatEvents[K]) => void;
  /** A peer abused the DHT (flooded provider records); it has been disconnected. */
  onAbuse?: (peer: string, reason: string) => void;
}

const providerStores = new WeakMap<object, ProviderStore>();

/** Counters of the node's DHT provider-record store (records held, refusals). */
export function providerStats(node: P2pNode): ProviderStoreStats | undefined {
  return providerStores.get(node)?.stats();
}

/** Creates (but does not start) the node. */
export async function createNode(
  config: Config,
  privateKey: PrivateKey,
  hooks: NodeHooks = {},
): Promise<P2pNode> {
  applyDenoLibp2pPatches();
  const banned = hooks.isBanned ?? (() => false);
  const validityMs = 48 * 3600 * 1000;
  const reprovideMs = Math.min(config.reprovide_interval * 1000, validityMs / 2);
  const deniedAddress = dialDenier(config);
  const providers = new ProviderStore({
    self: peerIdFromPrivateKey(privateKey).toString(),
    maxRecords: config.dht_provider_records_max,
    maxPerPeer: config.dht_provider_records_per_peer,
    ratePerSecond: config.dht_provider_rate,
    burst: config.dht_provider_burst,
    validityMs,
  });
  const datastore = new GuardedDatastore({ store: providers });
  const node = await createLibp2p({
    privateKey,
    datastore,
    start: false,
    nodeInfo: { name: "guix-p2p", version: VERSION, userAgent: `guix-p2p/${VERSION}` },
    addresses: {
      listen: config.listen,
      ...(config.announce.length > 0 ? { announce: config.announce } : {}),
    },
    transports: [tcp(), ...natTransports()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    connectionGater: {
      denyDialPeer: (peer) => banned(peer),
      denyInboundEncryptedConnection: (peer) => banned(peer),
      // Private LAN addresses are dialled; loopback and link-local ones only as
      // dial_policy.ts allows (a peer must not make us connect to our own host).
      denyDialMultiaddr: (ma) => deniedAddress(ma.toString()),
      ...relayGater(config, banned, hooks.emit),
    },
    connectionManager: {
      maxConnections: config.max_connections,
      allow: config.connection_allowlist,
    },
    services: {
      identify: identify(),
      ping: ping(),
      ...(config.mdns ? { mdns: mdns() } : {}),
      dht: kadDHT({
        protocol: config.dht_protocol,
        clientMode: !dhtServerMode(config),
        peerInfoMapper: passthroughMapper,
        reprovide: {
          validity: validityMs,
          threshold: validityMs - reprovideMs,
          interval: Math.min(3600_000, reprovideMs),
        },
      }),
      ...natServices(config, hooks.emit),
    },
  }) as P2pNode;
  const table = (node.services.dht as unknown as {
    routingTable: { closestPeers(kadId: Uint8Array, o: { count: number }): PeerId[] };
  }).routingTable;
  providers.isResponsible = responsibleFor({
    self: node.peerId,
    closestPeers: (kadId, count) => table.closestPeers(kadId, { count }),
    closest: config.dht_provider_closest,
  });
  datastore.onAbuse = (peer, reason) => {
    hooks.onAbuse?.(peer, reason);
    void node.hangUp(peerIdFromString(peer)).catch(() => {});
  };
  providerStores.set(node, providers);
  return node;
}
