/**
 * The sweep provider's DHT on a libp2p node: lookups through kad-dht's own
 * `getClosestPeers` (its query manager, disjoint paths and routing table),
 * ADD_PROVIDER messages written on kad-dht's protocol (one stream per peer
 * and batch: kad-dht's server reads them one after the other), and our own
 * provider records kept in the node's provider store, where kad-dht's
 * GET_PROVIDERS handler reads them.
 *
 * @example
 * ```ts
 * const dht = libp2pSweepDht(() => node, { protocol: config.dht_protocol });
 * const sweep = new SweepProvider({ dht, intervalMs: config.reprovide_interval * 1000 });
 * ```
 * @module
 */
import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { base32 } from "multiformats/bases/base32";
import { type P2pNode, providerStore } from "../node.ts";
import { encodeAddProvider } from "./add_provider.ts";
import { closestLookup } from "./closest_lookup.ts";
import { type Candidate, kadIdOf } from "./regions.ts";
import type { SweepDht } from "./sweep_provider.ts";

/** The multiaddr protocol code of `/p2p/`. */
const P2P_CODE = 421;

/** Options of {@linkcode libp2pSweepDht}. */
export interface Libp2pSweepDhtOptions {
  /** The DHT protocol id (`dht_protocol`). */
  protocol: string;
}

/** The adapter; `node` is called at each use (the node exists only once the service starts). */
export function libp2pSweepDht(node: () => P2pNode, options: Libp2pSweepDhtOptions): SweepDht {
  const kadIds = new Map<string, Uint8Array>();
  const candidate = (id: PeerId): Candidate => {
    const peer = id.toString();
    let kadId = kadIds.get(peer);
    if (!kadId) {
      if (kadIds.size > 20_000) kadIds.clear();
      kadIds.set(peer, kadId = kadIdOf(id.toMultihash().bytes));
    }
    return { peer, kadId };
  };
  return {
    lookup(key, { signal }) {
      const n = node();
      return closestLookup(n.services.dht.getClosestPeers(key, { signal }), {
        target: kadIdOf(key),
        self: n.peerId.toString(),
        candidate,
      });
    },
    tableSize() {
      const dht = node().services.dht as unknown as { routingTable?: { size?: number } };
      return dht.routingTable?.size ?? 0;
    },
    async send(peer, keys, { signal }) {
      const n = node();
      // Our addresses without the `/p2p/<us>` suffix (the record names us already): ~40 bytes
      // less per address and message.
      const addrs = n.getMultiaddrs().map((m) => m.decapsulateCode(P2P_CODE).bytes);
      const me = { id: n.peerId.toMultihash().bytes, addrs };
      const stream = await n.dialProtocol(peerIdFromString(peer), options.protocol, { signal });
      try {
        for (const key of keys) {
          if (!stream.send(encodeAddProvider(key, me))) await stream.onDrain({ signal });
        }
        await stream.close({ signal });
      } catch (e) {
        stream.abort(e as Error);
        throw e;
      }
    },
    keepSelf(key, keep) {
      const n = node();
      const store = providerStore(n);
      if (!store) return;
      const text = base32.baseEncode(key);
      if (keep) store.add(text, n.peerId.toString(), Date.now());
      else store.delete(text, n.peerId.toString());
    },
  };
}
