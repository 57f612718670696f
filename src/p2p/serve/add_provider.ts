/**
 * kad-dht's ADD_PROVIDER message, as the sweep provider writes it on the
 * DHT protocol: a varint length prefix, then the protobuf `Message` of the
 * libp2p Kademlia specification with `type = ADD_PROVIDER` (2), `key` (the
 * key's multihash bytes) and one `providerPeers` entry (our PeerId multihash
 * and addresses). kad-dht's server reads any number of these, one after the
 * other, on one stream, and answers none of them.
 *
 * Pure: no I/O.
 *
 * @example
 * ```ts
 * const msg = encodeAddProvider(cid.multihash.bytes, {
 *   id: peerId.toMultihash().bytes,
 *   addrs: node.getMultiaddrs().map((m) => m.bytes),
 * });
 * stream.send(msg);
 * ```
 * @module
 */

/** What an ADD_PROVIDER message says about its sender. */
export interface ProviderInfo {
  /** The PeerId's multihash bytes. */
  id: Uint8Array;
  /** Binary multiaddrs (without `/p2p/…`). */
  addrs: readonly Uint8Array[];
}

/** kad-dht's `MessageType.ADD_PROVIDER`. */
const ADD_PROVIDER = 2;

/** One length-prefixed ADD_PROVIDER message for `key`. */
export function encodeAddProvider(key: Uint8Array, provider: ProviderInfo): Uint8Array {
  const peer: number[] = [];
  field(peer, 1, provider.id);
  for (const a of provider.addrs) field(peer, 2, a);
  const body: number[] = [0x08, ADD_PROVIDER];
  field(body, 2, key);
  field(body, 9, peer);
  const out: number[] = [];
  varint(out, body.length);
  for (const b of body) out.push(b);
  return Uint8Array.from(out);
}

/** A length-delimited protobuf field `n` holding `bytes`. */
function field(out: number[], n: number, bytes: ArrayLike<number>): void {
  out.push((n << 3) | 2);
  varint(out, bytes.length);
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!);
}

function varint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}
