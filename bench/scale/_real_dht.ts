/**
 * The "real" engine of the scale simulation: one unmodified js-libp2p
 * `@libp2p/kad-dht` 16.4.5 `KadDHT` per simulated node (routing table,
 * k-buckets, query manager with its disjoint paths, RPC handlers, provider
 * records, self-query, table refresh, republisher), each with guix-p2p's own
 * provider-record store (`GuardedDatastore` + `ProviderStore` with the
 * production limits and responsibility rule), all on the simulated clock.
 *
 * What is replaced, and how:
 * - kad-dht's `Network.sendRequest`/`sendMessage` (which open a libp2p stream
 *   and write/read one protobuf): the same messages, encoded and decoded with
 *   kad-dht's own protobuf codec, travel over {@linkcode SimNetwork} and are
 *   handled by the remote node's real `RPC.handleMessage`; the same events
 *   are yielded, the same adaptive timeout bounds each request, and peers
 *   named in responses are announced to the routing table as kad-dht does;
 * - libp2p components: a peer store that knows every simulated node's
 *   addresses (tags ignored), a registrar whose topology is told of new
 *   connections, `ping` over the simulated network, a no-op logger, no
 *   metrics; PeerIds named in messages are interned (one object per peer);
 * - the closest-peer tagger's 5 s timer is slowed to once a day (it only tags
 *   peers for libp2p's connection manager, which the simulation replaces).
 *
 * @example
 * ```ts
 * const world = await RealDht.create({ clock, net, peers, protocol: "/guix-p2p/kad/1.0.0" });
 * await world.start();
 * const r = await world.findProvider(0, key, { budgetMs: 10_000 });
 * ```
 * @module
 */
import type { PeerId } from "@libp2p/interface";
import { kadDHT } from "@libp2p/kad-dht";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import {
  Message,
  MessageType,
} from "../../node_modules/.deno/@libp2p+kad-dht@16.4.5/node_modules/@libp2p/kad-dht/dist/src/message/dht.js";
import { GuardedDatastore, ProviderStore, responsibleFor } from "../../src/p2p/dht/mod.ts";
import type { VirtualClock } from "./_clock.ts";
import type { SimNetwork } from "./_net.ts";
import type { SimPeer } from "./_population.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** Production limits of the provider-record store (src/config/schema.ts defaults). */
export const STORE_LIMITS = {
  maxRecords: 100_000,
  maxPerPeer: 10_000,
  ratePerSecond: 50,
  burst: 1000,
  closest: 40,
  validityMs: 48 * 3600_000,
};

/** Options of {@linkcode RealDht.create}. */
export interface RealDhtOptions {
  clock: VirtualClock;
  net: SimNetwork;
  peers: SimPeer[];
  protocol: string;
  /**
   * Whether kad-dht's own routing-table upkeep runs: the self-query every 5
   * minutes and the table refresh (a lookup per common-prefix length every 5
   * minutes). Off, tables change only through queries and the tests' own
   * filling (what makes 10,000 nodes affordable).
   */
  maintenance: boolean;
  /**
   * kad-dht's `prefixLength` (kad-dht's default 6; production sets
   * `DHT_PREFIX_LENGTH`): the table holds up to 2^prefixLength buckets of 20.
   */
  prefixLength?: number;
  /** kad-dht's `alpha` and `disjointPaths` (default 10 and 10, as production). */
  alpha?: number;
  disjointPaths?: number;
}

/** One simulated node running the real kad-dht. */
export interface RealNode {
  index: number;
  peer: SimPeer;
  dht: Any;
  store: ProviderStore;
  topology: { onConnect?: (peer: PeerId) => void } | undefined;
}

const noop = () => {};
const log: Any = Object.assign(noop, { error: noop, trace: noop, enabled: false });
log.newScope = () => log;
const logger = { forComponent: () => log };

/** A world of real kad-dht nodes on the simulated network. */
export class RealDht {
  readonly nodes: RealNode[];
  readonly #o: RealDhtOptions;
  readonly #byKey = new Map<string, SimPeer>();
  readonly #byText = new Map<string, SimPeer>();

  private constructor(o: RealDhtOptions) {
    this.#o = o;
    for (const p of o.peers) {
      this.#byKey.set(p.key, p);
      this.#byText.set(p.peerId.toString(), p);
    }
    this.nodes = o.peers.map((p) => this.#makeNode(p));
    o.net.onConnect = (a, b) => {
      this.nodes[a]!.topology?.onConnect?.(o.peers[b]!.peerId);
      this.nodes[b]!.topology?.onConnect?.(o.peers[a]!.peerId);
    };
  }

  /** Builds the nodes (not started). */
  static create(o: RealDhtOptions): RealDht {
    return new RealDht(o);
  }

  /** Starts every node's DHT (server mode). */
  async start(indexes: Iterable<number> = this.nodes.keys()): Promise<void> {
    for (const i of indexes) await this.nodes[i]!.dht.start();
  }

  /** Stops every node. */
  async stop(): Promise<void> {
    for (const n of this.nodes) await n.dht.stop().catch(noop);
  }

  /** The simulated peer of a PeerId (interned by its multihash). */
  peerOf(id: PeerId): SimPeer | undefined {
    return this.#byKey.get(keyOf(id.toMultihash().bytes));
  }

  /** The simulated peer of a PeerId's text. */
  peerOfText(text: string): SimPeer | undefined {
    return this.#byText.get(text);
  }

  /** Adds `peers` to node `i`'s routing table through kad-dht's own `add` (pings new contacts). */
  async addToTable(i: number, peers: SimPeer[]): Promise<void> {
    const table = this.nodes[i]!.dht.routingTable;
    for (const p of peers) await table.add(p.peerId).catch(noop);
  }

  /**
   * Fills node `i`'s routing table as a long-running network leaves it: for
   * every `prefixLength`-bit prefix (kad-dht's deepest bucket), up to 25 random peers of
   * that prefix (`usable` ones only) are offered, interleaved, to kad-dht's
   * own k-bucket insertion (`_add`, which splits buckets and refuses peers
   * when a bucket is full), as contacts pinged recently.
   */
  async fillTable(i: number, rand: () => number, usable: (j: number) => boolean): Promise<void> {
    const kb = this.nodes[i]!.dht.routingTable.kb;
    const byPrefix = this.#byPrefix();
    const offers: SimPeer[][] = byPrefix.map((members) =>
      shuffle(members.filter((p) => p.index !== i && usable(p.index)), rand).slice(0, 40)
    );
    const now = Date.now();
    for (let round = 0; round < 25; round++) {
      for (const list of offers) {
        const p = list[round];
        if (p) await kb._add({ peerId: p.peerId, kadId: p.kadId, lastPing: now });
      }
    }
  }

  /** Removes the peers `gone` says have left from node `i`'s routing table. */
  async dropFromTable(i: number, gone: (j: number) => boolean): Promise<number> {
    const kb = this.nodes[i]!.dht.routingTable.kb;
    let n = 0;
    for (const c of [...kb.toIterable()]) {
      const p = this.peerOf(c.peerId);
      if (p && gone(p.index)) {
        await kb.remove(c.kadId);
        n++;
      }
    }
    return n;
  }

  #prefixes: SimPeer[][] | undefined;
  #byPrefix(): SimPeer[][] {
    if (!this.#prefixes) {
      const bits = this.#o.prefixLength ?? 6;
      this.#prefixes = Array.from({ length: 2 ** bits }, () => []);
      for (const p of this.#o.peers) {
        const top = (p.kadId[0]! << 8) | p.kadId[1]!;
        this.#prefixes[top >> (16 - bits)]!.push(p);
      }
    }
    return this.#prefixes;
  }

  /** The peers in node `i`'s routing table. */
  tablePeers(i: number): SimPeer[] {
    const out: SimPeer[] = [];
    for (const c of this.nodes[i]!.dht.routingTable.kb.toIterable()) {
      const p = this.peerOf(c.peerId);
      if (p) out.push(p);
    }
    return out;
  }

  #makeNode(p: SimPeer): RealNode {
    const o = this.#o;
    const store = new ProviderStore({
      self: p.peerId.toString(),
      maxRecords: STORE_LIMITS.maxRecords,
      maxPerPeer: STORE_LIMITS.maxPerPeer,
      ratePerSecond: STORE_LIMITS.ratePerSecond,
      burst: STORE_LIMITS.burst,
      validityMs: STORE_LIMITS.validityMs,
    });
    const datastore = new GuardedDatastore({ store });
    const node: RealNode = { index: p.index, peer: p, dht: undefined, store, topology: undefined };
    const components: Any = {
      peerId: p.peerId,
      logger,
      datastore,
      peerStore: this.#peerStore(),
      addressManager: { getAddresses: () => p.addrs },
      connectionManager: {
        isDialable: () => Promise.resolve(true),
        openStream: () => Promise.reject(new Error("streams are simulated")),
      },
      registrar: {
        handle: () => Promise.resolve(),
        unhandle: () => Promise.resolve(),
        register: (_protocol: string, topology: RealNode["topology"]) => {
          node.topology = topology;
          return Promise.resolve("topology");
        },
        unregister: noop,
      },
      events: new EventTarget(),
      ping: {
        ping: async (peer: PeerId, opts?: { signal?: AbortSignal }) => {
          const q = this.peerOf(peer);
          if (!q) throw new Error("unknown peer");
          await o.net.ping(p.index, q.index, opts?.signal);
          return 2 * o.net.latencyMs;
        },
      },
    };
    const year = 365 * 24 * 3600_000;
    const dht: Any = kadDHT({
      protocol: o.protocol,
      clientMode: false,
      ...(o.prefixLength === undefined ? {} : { prefixLength: o.prefixLength }),
      ...(o.alpha === undefined ? {} : { alpha: o.alpha }),
      ...(o.disjointPaths === undefined ? {} : { disjointPaths: o.disjointPaths }),
      peerInfoMapper: (x: unknown) => x as never,
      // As src/p2p/node.ts: our records are refreshed by the sweep, not by kad-dht.
      reprovide: { validity: STORE_LIMITS.validityMs, threshold: 0, interval: 3600_000 },
      ...(o.maintenance ? {} : {
        allowQueryWithZeroPeers: true,
        initialQuerySelfInterval: year,
        querySelfInterval: year,
      }),
    } as Any)(components);
    node.dht = dht;
    // The closest-peer tagger only tags peers for libp2p's connection manager (replaced here);
    // its 5 s timer on every node would dominate the run: once a day.
    dht.routingTable.closestPeerTagger.refreshInterval = 24 * 3600_000;
    if (!o.maintenance) {
      dht.routingTableRefresh.afterStart = () => Promise.resolve();
      dht.routingTableRefresh.refreshTable = noop;
    }
    const table = dht.routingTable;
    // As src/p2p/node.ts wires it.
    store.isResponsible = responsibleFor({
      self: p.peerId,
      closestPeers: (kadId, count) => table.closestPeers(kadId, { count }),
      tablePeers: () => kadIdsOf(table.kb.toIterable()),
      closest: STORE_LIMITS.closest,
    });
    this.#replaceNetwork(node);
    return node;
  }

  #peerStore(): Any {
    const info = (id: PeerId) => {
      const q = this.peerOf(id);
      if (!q) throw Object.assign(new Error("not found"), { name: "NotFoundError" });
      return q;
    };
    return {
      get: (id: PeerId) => {
        const q = info(id);
        return Promise.resolve({
          id: q.peerId,
          addresses: q.addrs.map((m) => ({ multiaddr: m, isCertified: false })),
          protocols: [this.#o.protocol],
          tags: new Map(),
          metadata: new Map(),
        });
      },
      getInfo: (id: PeerId) => {
        const q = info(id);
        return Promise.resolve({ id: q.peerId, multiaddrs: q.addrs });
      },
      has: (id: PeerId) => Promise.resolve(this.peerOf(id) !== undefined),
      merge: () => Promise.resolve(),
      patch: () => Promise.resolve(),
      all: () => Promise.resolve([]),
    };
  }

  /** kad-dht's network layer, over the simulated network. */
  #replaceNetwork(node: RealNode): void {
    const net = node.dht.network;
    net.sendRequest = (to: PeerId, msg: Any, options: Any) =>
      this.#sendRequest(node, to, msg, options);
    net.sendMessage = (to: PeerId, msg: Any, options: Any) =>
      this.#sendMessage(node, to, msg, options);
  }

  #toInfo = (pb: { id?: Uint8Array }) => {
    const q = this.#byKey.get(keyOf(pb.id!));
    if (!q) throw new Error("unknown peer in message");
    return { id: q.peerId, multiaddrs: q.addrs };
  };

  /** kad-dht's `Network.sendRequest`, with the simulated network in place of a stream. */
  async *#sendRequest(node: RealNode, to: PeerId, msg: Any, options: Any): AsyncGenerator<Any> {
    const net = node.dht.network;
    if (!net.running) return;
    const signal = net.timeout.getTimeoutSignal(options);
    options = { ...options, signal };
    try {
      const q = this.peerOf(to);
      if (!q) throw new Error("unknown peer");
      yield { peer: to, path: options.path, name: "DIAL_PEER", type: 7 };
      const bytes = Message.encode(msg);
      yield {
        to,
        type: msg.type,
        path: options.path,
        name: "SEND_QUERY",
        messageName: msg.type,
        messageType: msg.type,
      };
      const raw: Uint8Array = await this.#o.net.request(
        node.index,
        q.index,
        msg.type,
        framed(bytes.length),
        signal,
        async () => {
          const remote = this.nodes[q.index]!;
          const res = await remote.dht.rpc.handleMessage(node.peer.peerId, Message.decode(bytes));
          const out = Message.encode(res);
          return { bytes: framed(out.length), value: out };
        },
      );
      const response = Message.decode(raw);
      for (const p of response.closer) net.safeDispatchEvent("peer", { detail: this.#toInfo(p) });
      for (const p of response.providers) {
        net.safeDispatchEvent("peer", { detail: this.#toInfo(p) });
      }
      yield {
        from: to,
        messageType: response.type,
        messageName: response.type,
        closer: response.closer.map(this.#toInfo),
        providers: response.providers.map(this.#toInfo),
        record: undefined,
        path: options.path,
        name: "PEER_RESPONSE",
        type: 1,
      };
    } catch (err) {
      yield { from: to, error: err, path: options.path, name: "QUERY_ERROR", type: 3 };
    } finally {
      net.timeout.cleanUp(signal);
    }
  }

  /** kad-dht's `Network.sendMessage` (ADD_PROVIDER from its own `provide()`). */
  async *#sendMessage(node: RealNode, to: PeerId, msg: Any, options: Any): AsyncGenerator<Any> {
    const net = node.dht.network;
    if (!net.running) return;
    const signal = net.timeout.getTimeoutSignal(options);
    options = { ...options, signal };
    try {
      const q = this.peerOf(to);
      if (!q) throw new Error("unknown peer");
      yield { peer: to, path: options.path, name: "DIAL_PEER", type: 7 };
      const bytes = Message.encode(msg);
      yield {
        to,
        type: msg.type,
        path: options.path,
        name: "SEND_QUERY",
        messageName: msg.type,
        messageType: msg.type,
      };
      await this.#o.net.message(
        node.index,
        q.index,
        msg.type,
        framed(bytes.length),
        signal,
        async () => {
          await this.nodes[q.index]!.dht.rpc.handleMessage(node.peer.peerId, Message.decode(bytes));
        },
      );
      yield {
        from: to,
        messageType: msg.type,
        messageName: msg.type,
        closer: [],
        providers: [],
        path: options.path,
        name: "PEER_RESPONSE",
        type: 1,
      };
    } catch (err) {
      yield { from: to, error: err, path: options.path, name: "QUERY_ERROR", type: 3 };
    } finally {
      net.timeout.cleanUp(signal);
    }
  }

  /**
   * Sends ADD_PROVIDER for `keys` (multihash bytes) from node `from` to node
   * `to` on one stream, as the sweep provider does; each is handled by the
   * remote's real handler (and its provider-record limits).
   */
  async addProviders(
    from: number,
    to: number,
    keys: Uint8Array[],
    signal: AbortSignal | undefined,
  ): Promise<{ refused: number }> {
    const self = this.nodes[from]!.peer;
    let refused = 0;
    const msgs = keys.map((key) =>
      Message.encode({
        type: MessageType.ADD_PROVIDER,
        key,
        closer: [],
        providers: [{
          id: self.peerId.toMultihash().bytes,
          multiaddrs: self.addrs.map((m) => m.bytes),
        }],
      })
    );
    // One stream: the remote handles its messages one after the other, as kad-dht's RPC loop does.
    let chain = Promise.resolve();
    await this.#o.net.messages(
      from,
      to,
      "ADD_PROVIDER",
      msgs.map((m) => framed(m.length)),
      signal,
      (i) => {
        chain = chain.then(() =>
          this.nodes[to]!.dht.rpc.handleMessage(self.peerId, Message.decode(msgs[i]!)).then(
            noop,
            () => void refused++,
          )
        );
        return chain;
      },
    );
    return { refused };
  }
}

function* kadIdsOf(peers: Iterable<{ kadId: Uint8Array }>): Generator<Uint8Array> {
  for (const p of peers) yield p.kadId;
}

/** A shuffled copy (Fisher–Yates with `rand`). */
export function shuffle<T>(list: readonly T[], rand: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Bytes of a message with its varint length prefix. */
export function framed(n: number): number {
  return n + (n < 128 ? 1 : n < 16384 ? 2 : 3);
}

function keyOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** The interning key of a PeerId's multihash bytes. */
export function peerKey(id: PeerId): string {
  return keyOf(id.toMultihash().bytes);
}

/** Two addresses per node, as a dual-stack host announces them. */
export function simAddrs(index: number): Multiaddr[] {
  const a = (index >> 16) & 255;
  const b = (index >> 8) & 255;
  const c = index & 255;
  return [
    multiaddr(`/ip4/10.${a}.${b}.${c}/tcp/4001`),
    multiaddr(`/ip6/2001:db8::${a.toString(16)}:${b.toString(16)}:${c.toString(16)}/tcp/4001`),
  ];
}
