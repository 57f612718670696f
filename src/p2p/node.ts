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

/**
 * Depth of kad-dht's routing table: up to 2^7 buckets of 20 peers (2,560)
 * instead of kad-dht's 2^6 (1,280). With 10,000 DHT servers, a table of
 * 1,280 knows 20 of the ~156 peers sharing a key's first 6 bits, and for ~6 %
 * of keys none of them holds the record: a second cold hop, 1.2 s with 50 ms
 * links (provider lookup p95 1,202 ms in the scale simulation); 2,560 know 20
 * of ~78 and answer in one hop (p95 601 ms), for ~130 KB more memory and
 * fewer requests per sweep lookup (docs/scale.md). A smaller network fills
 * the same buckets either way.
 *
 * @example
 * ```ts
 * kadDHT({ prefixLength: DHT_PREFIX_LENGTH });
 * ```
 */
export const DHT_PREFIX_LENGTH = 7;

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

/** The node's DHT provider-record store (the sweep provider keeps our own records there). */
export function providerStore(node: P2pNode): ProviderStore | undefined {
  return providerStores.get(node);
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
        // Our records are refreshed by the sweep provider (serve/sweep_provider.ts), by
        // keyspace region: kad-dht's per-record republish never runs (threshold 0: only an
        // expired record of ours would be republished, and the sweep keeps them fresh). Its
        // hourly pass still drops other peers' expired records.
        reprovide: { validity: validityMs, threshold: 0, interval: 3600_000 },
        prefixLength: DHT_PREFIX_LENGTH,
      }),
      ...natServices(config, hooks.emit),
    },
  }) as P2pNode;
  const table = (node.services.dht as unknown as {
    routingTable: {
      closestPeers(kadId: Uint8Array, o: { count: number }): PeerId[];
      kb?: { toIterable(): Iterable<{ kadId: Uint8Array }> };
    };
  }).routingTable;
  providers.isResponsible = responsibleFor({
    self: node.peerId,
    closestPeers: (kadId, count) => table.closestPeers(kadId, { count }),
    tablePeers: () => kadIds(table.kb?.toIterable() ?? []),
    closest: config.dht_provider_closest,
  });
  datastore.onAbuse = (peer, reason) => {
    hooks.onAbuse?.(peer, reason);
    void node.hangUp(peerIdFromString(peer)).catch(() => {});
  };
  providerStores.set(node, providers);
  return node;
}

function* kadIds(peers: Iterable<{ kadId: Uint8Array }>): Generator<Uint8Array> {
  for (const p of peers) yield p.kadId;
}

/** Peers in the DHT routing table (not in kad-dht's public type: ../shared/docs/platform-notes.md §2.1). */
export function routingTableSize(node: P2pNode | undefined): number {
  const dht = node?.services.dht as unknown as { routingTable?: { size?: number } } | undefined;
  return dht?.routingTable?.size ?? 0;
}
