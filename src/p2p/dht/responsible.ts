/**
 * Which provider records this node should hold. Kademlia stores a record on
 * the `k` peers whose IDs are XOR-closest to the record's key; a sender picks
 * them from its own view of the network, which may differ a little from
 * ours. Rule: this node holds a record for key K when fewer than `closest`
 * peers of its routing table are XOR-closer to K than it is itself (default
 * `closest` = 2·k = 40, so a sender whose view differs by up to k peers is
 * still served). In a swarm of fewer than `closest` DHT servers every node is
 * responsible for every key. The kad ID of a key is SHA-256 of its multihash
 * bytes and that of a peer SHA-256 of its PeerId multihash, as in kad-dht.
 *
 * @example
 * ```ts
 * const rule = responsibleFor({ self: node.peerId, closestPeers: (id, n) => table.closestPeers(id, { count: n }), closest: 40 });
 * rule("ciqk…"); // true when we are among the 40 closest known peers
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { PeerId } from "@libp2p/interface";
import { base32 } from "multiformats/bases/base32";

/** Options of {@linkcode responsibleFor}. */
export interface ResponsibleOptions {
  self: PeerId;
  /** The routing table's `count` closest peers to a kad ID, closest first. */
  closestPeers: (kadId: Uint8Array, count: number) => PeerId[];
  /** How many closer peers we tolerate before declining a record. */
  closest: number;
}

/** The rule as a predicate on provider-record keys (base32 multihash, as kad-dht writes them). */
export function responsibleFor(options: ResponsibleOptions): (key: string) => boolean {
  const selfId = kadIdOfPeer(options.self);
  return (key: string) => {
    let target: Uint8Array;
    try {
      target = sha256(base32.baseDecode(key));
    } catch {
      return false;
    }
    const peers = options.closestPeers(target, options.closest);
    const last = peers[options.closest - 1];
    if (!last) return true;
    return compareDistance(selfId, kadIdOfPeer(last), target) < 0;
  };
}

/** The kad ID of a peer. */
export function kadIdOfPeer(peer: PeerId): Uint8Array {
  return sha256(peer.toMultihash().bytes);
}

/** Negative when `a` is XOR-closer to `target` than `b`, positive when farther, 0 when equal. */
export function compareDistance(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = (a[i] ?? 0) ^ target[i]!;
    const db = (b[i] ?? 0) ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}
