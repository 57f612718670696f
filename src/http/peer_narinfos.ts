/**
 * Narinfos from peers, as the resolver sees them: a source that asks the
 * swarm for the signed narinfos of a batch of store-path hash parts and hands
 * back, per hash part, the first one the caller's check accepts (the P2P
 * layer implements it and penalises peers whose narinfos the check refuses),
 * and the policy that says when it is asked (docs/protocol.md §6).
 *
 * Narinfos from peers are cached like a server's, under the pseudo server
 * URL {@linkcode P2P_CACHE_URL}, and reported with it as their `cacheUrl`.
 *
 * @example
 * ```ts
 * import type { PeerNarinfoSource } from "./peer_narinfos.ts";
 * const none: PeerNarinfoSource = { lookup: () => Promise.resolve(new Map()) };
 * ```
 * @module
 */

/** The cache URL of narinfos that came from peers (their NAR URLs still name upstream). */
export const P2P_CACHE_URL = "p2p://";

/**
 * When peers are asked for narinfos: `race` (together with the servers; the
 * first valid answer wins), `fallback` (only for what the servers did not
 * give), `off`.
 */
export type NarinfoPeersMode = "race" | "fallback" | "off";

/**
 * The caller's check of a narinfo a peer sent for a hash part. `foreign`: the
 * narinfo names the item in another store directory — a peer whose store is
 * elsewhere (only a test puts the same hash part in two stores), unusable
 * here but no lie, so not a fault.
 */
export type PeerNarinfoJudge = (
  hashPart: string,
  text: string,
) => { ok: true } | { ok: false; reason: string; foreign?: boolean };

/** A batch question to the swarm. */
export interface PeerNarinfoQuery {
  /** Guix (`/gnu/store`, the ACL) or Nix narinfos. */
  flavour: "guix" | "nix";
  /** Store-path hash parts (32 nix32 characters), without duplicates. */
  hashParts: string[];
  /** The trusted public keys (32 bytes each): peers send only narinfos signed by one of them. */
  keys: Uint8Array[];
  /** Accepts or refuses a candidate; a refusal counts against the peer that sent it. */
  judge: PeerNarinfoJudge;
}

/** Asks peers for narinfos. */
export interface PeerNarinfoSource {
  /**
   * The first accepted narinfo text of each hash part peers hold (hash parts
   * no peer holds are absent). Connected peers are asked, one request per
   * peer for the whole batch; with `dht`, the DHT is asked for the rest.
   */
  lookup(
    query: PeerNarinfoQuery,
    options: { dht: boolean; signal?: AbortSignal | undefined },
  ): Promise<Map<string, string>>;
}

/** How a resolver asks peers: the source, the mode, and the keys of the moment. */
export interface ResolverPeers {
  source: PeerNarinfoSource;
  mode: NarinfoPeersMode;
  flavour: "guix" | "nix";
  /** The trusted public keys now (the Guix ACL may change). */
  keys(): Uint8Array[];
}
