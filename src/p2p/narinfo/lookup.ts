/**
 * Narinfo lookups in the swarm (docs/protocol.md §6.5), the P2P side of
 * {@linkcode PeerNarinfoSource}: every connected peer that speaks the
 * narinfo protocol gets one request for the whole batch (in parallel); the
 * lookup returns as soon as every hash part has an accepted narinfo or every
 * peer answered. With `dht`, the hash parts still missing are looked up in
 * the DHT under their narinfo keys, and the providers found are asked.
 *
 * Each candidate goes through the caller's `judge` (the resolver's check:
 * signature by a trusted key, StorePath, signed fields) before it is
 * accepted; since the request names the keys the caller trusts, an honest
 * peer never sends one the judge refuses, so a refusal penalises the peer
 * (`PeerBook.fault`) — unless the narinfo is of another store directory
 * (`foreign`: unusable here, no lie). A peer's "not held" is remembered for 30 s; a peer
 * that lets a request time out is skipped for a minute.
 *
 * @example
 * ```ts
 * const swarm = new NarinfoSwarm({ node: () => node, running: () => true, links, peerBook, discoveryTimeout: 3, emit });
 * const texts = await swarm.lookup({ flavour: "guix", hashParts, keys, judge }, { dht: false });
 * ```
 * @module
 */
import type { PeerId } from "@libp2p/interface";
import type { PeerNarinfoQuery, PeerNarinfoSource } from "../../http/peer_narinfos.ts";
import type { P2pNode } from "../node.ts";
import type { PeerBook } from "../peer_book.ts";
import { narinfoCid } from "./key.ts";
import type { NarinfoLinks } from "./link.ts";
import { MAX_HASH_PARTS, NARINFO_PROTOCOL } from "./messages.ts";

/** Events of lookups. */
export interface NarinfoLookupEvents {
  "narinfo:from-peer": { peer: string; hashPart: string; via: "connected" | "dht" };
  "narinfo:refused": { peer: string; hashPart: string; reason: string };
  "peer:penalised": { peer: string; reason: string; banned: boolean };
}

/** Options of {@linkcode NarinfoSwarm}. */
export interface NarinfoSwarmInit {
  node: () => P2pNode;
  running: () => boolean;
  links: NarinfoLinks;
  peerBook: PeerBook;
  /** `discovery_timeout` in seconds; a narinfo's DHT walk gets a quarter of it. */
  discoveryTimeout: number;
  /** Bound on one peer's answer. Default 2000 ms. */
  timeoutMs?: number;
  /** How long a peer's "not held" is remembered. Default 30 s. */
  negativeTtlMs?: number;
  /** Concurrent DHT walks. Default 8. */
  dhtConcurrency?: number;
  emit: <K extends keyof NarinfoLookupEvents>(type: K, payload: NarinfoLookupEvents[K]) => void;
}

/** Most remembered "not held" answers (oldest out). */
const MAX_NEGATIVE = 100_000;

/** Looks narinfos up from peers. */
export class NarinfoSwarm implements PeerNarinfoSource {
  #o: NarinfoSwarmInit;
  #negative = new Map<string, number>();
  #unresponsive = new Map<string, number>();

  /** Creates the lookup side. */
  constructor(init: NarinfoSwarmInit) {
    this.#o = init;
  }

  /** See {@linkcode PeerNarinfoSource.lookup}. */
  async lookup(
    query: PeerNarinfoQuery,
    options: { dht: boolean; signal?: AbortSignal | undefined },
  ): Promise<Map<string, string>> {
    const accepted = new Map<string, string>();
    if (!this.#o.running() || query.hashParts.length === 0 || query.keys.length === 0) {
      return accepted;
    }
    await this.#askConnected(query, accepted, options.signal);
    if (options.dht && accepted.size < query.hashParts.length) {
      await this.#askDht(query, accepted, options.signal);
    }
    return accepted;
  }

  /** Connected peers that are not banned and speak the protocol (or have not said yet). */
  async #connectedPeers(): Promise<PeerId[]> {
    const node = this.#o.node();
    const seen = new Set<string>();
    const out: PeerId[] = [];
    const now = Date.now();
    for (const conn of node.getConnections()) {
      const id = conn.remotePeer;
      const peer = id.toString();
      if (seen.has(peer) || this.#o.peerBook.isBanned(peer)) continue;
      seen.add(peer);
      if ((this.#unresponsive.get(peer) ?? 0) > now) continue;
      const protocols: string[] = await node.peerStore.get(id).then(
        (p) => p.protocols,
        () => [] as string[],
      );
      if (protocols.length > 0 && !protocols.includes(NARINFO_PROTOCOL)) continue;
      out.push(id);
    }
    return out;
  }

  async #askConnected(
    query: PeerNarinfoQuery,
    accepted: Map<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const peers = await this.#connectedPeers();
    if (peers.length === 0) return;
    // Done when every peer answered, or as soon as every hash part has its narinfo.
    const all = Promise.withResolvers<void>();
    const answered = () => {
      if (accepted.size >= query.hashParts.length) all.resolve();
    };
    let left = peers.length;
    for (const peerId of peers) {
      this.#askPeer(peerId, query.hashParts, query, accepted, "connected", signal, answered)
        .catch(() => {})
        .finally(() => {
          if (--left === 0) all.resolve();
        });
    }
    await all.promise;
  }

  async #askPeer(
    peerId: PeerId,
    hashParts: readonly string[],
    query: PeerNarinfoQuery,
    accepted: Map<string, string>,
    via: "connected" | "dht",
    signal: AbortSignal | undefined,
    answered?: () => void,
  ): Promise<void> {
    const peer = peerId.toString();
    const now = Date.now();
    const key = (h: string) => `${peer} ${query.flavour}:${h}`;
    const wanted = hashParts.filter((h) =>
      !accepted.has(h) && (this.#negative.get(key(h)) ?? 0) <= now
    );
    if (wanted.length === 0) return;
    const link = await this.#o.links.get(peerId, signal);
    for (let at = 0; at < wanted.length; at += MAX_HASH_PARTS) {
      const batch = wanted.slice(at, at + MAX_HASH_PARTS);
      let entries: (string | null)[];
      try {
        entries = await link.request(query.flavour, query.keys, batch, this.#o.timeoutMs ?? 2000);
      } catch (e) {
        if (!link.closed && (e as Error).name !== "NarinfoRefusedError") {
          this.#unresponsive.set(peer, Date.now() + 60_000);
        }
        return;
      }
      const until = Date.now() + (this.#o.negativeTtlMs ?? 30_000);
      batch.forEach((h, i) => {
        const text = entries[i];
        if (text === null || text === undefined) {
          this.#remember(key(h), until);
          return;
        }
        if (accepted.has(h)) return;
        const verdict = query.judge(h, text);
        if (verdict.ok) {
          accepted.set(h, text);
          this.#o.emit("narinfo:from-peer", { peer, hashPart: h, via });
          return;
        }
        this.#remember(key(h), until);
        this.#o.emit("narinfo:refused", { peer, hashPart: h, reason: verdict.reason });
        if (verdict.foreign) return; // another store directory: no lie, not a fault
        const reason = `narinfo of ${h}: ${verdict.reason}`;
        const { banned } = this.#o.peerBook.fault(peer, reason);
        this.#o.emit("peer:penalised", { peer, reason, banned });
      });
      answered?.();
    }
  }

  #remember(key: string, until: number): void {
    this.#negative.delete(key);
    this.#negative.set(key, until);
    if (this.#negative.size > MAX_NEGATIVE) {
      this.#negative.delete(this.#negative.keys().next().value!);
    }
  }

  async #askDht(
    query: PeerNarinfoQuery,
    accepted: Map<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const node = this.#o.node();
    const table = (node.services.dht as unknown as { routingTable?: { size?: number } })
      .routingTable;
    if ((table?.size ?? 0) === 0) return; // nobody to ask
    const queue = query.hashParts.filter((h) => !accepted.has(h));
    const budgetMs = Math.max(250, (this.#o.discoveryTimeout * 1000) / 4);
    const worker = async () => {
      for (let h = queue.shift(); h !== undefined; h = queue.shift()) {
        if (signal?.aborted || !this.#o.running()) return;
        for (const peerId of await this.#providers(h, budgetMs, signal)) {
          if (accepted.has(h)) break;
          await this.#askPeer(peerId, [h], query, accepted, "dht", signal).catch(() => {});
        }
      }
    };
    const n = Math.min(this.#o.dhtConcurrency ?? 8, queue.length);
    await Promise.all(Array.from({ length: n }, worker));
  }

  /** Up to 4 holders of `hashPart`'s narinfo announced in the DHT, within `budgetMs`. */
  async #providers(
    hashPart: string,
    budgetMs: number,
    signal: AbortSignal | undefined,
  ): Promise<PeerId[]> {
    const node = this.#o.node();
    const budget = AbortSignal.timeout(budgetMs);
    const found: PeerId[] = [];
    try {
      for await (
        const p of node.contentRouting.findProviders(narinfoCid(hashPart), {
          signal: signal ? AbortSignal.any([signal, budget]) : budget,
        })
      ) {
        if (p.id.equals(node.peerId) || this.#o.peerBook.isBanned(p.id.toString())) continue;
        if (p.multiaddrs.length > 0) {
          await node.peerStore.merge(p.id, { multiaddrs: p.multiaddrs }).catch(() => {});
        }
        found.push(p.id);
        if (found.length >= 4) break;
      }
    } catch {
      // budget spent or the walk failed: use what was found
    }
    return found;
  }
}
