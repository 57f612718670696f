/**
 * One flavour's way to items (Guix: `substitute_urls`, `/gnu/store`, the ACL;
 * Nix: `nix_upstream_urls`, `/nix/store`, `nix_trusted_public_keys`): a
 * narinfo resolver that keeps only narinfos the flavour's trust authorizes,
 * HTTP sources over it, a fetch planner over those and the P2P sources, and
 * the authorizer of the moment. The daemon builds one per flavour; the control
 * handler and the gateway use them.
 *
 * @example
 * ```ts
 * import { createFlavour } from "./flavour.ts";
 * declare const init: import("./flavour.ts").FlavourInit;
 * const guix = createFlavour(init);
 * const authorizer = await guix.authorizer(); // reloads the ACL if its file changed
 * ```
 * @module
 */
import { formatNarHash } from "../hash/nar_hash.ts";
import type { NarinfoCache } from "../http/narinfo_cache.ts";
import { NarinfoResolver, type ResolverSettings } from "../http/resolver.ts";
import type { NarinfoPeersMode, PeerNarinfoSource } from "../http/peer_narinfos.ts";
import { hexDecode } from "../encoding/hex.ts";
import type { Acl } from "../trust/acl.ts";
import { NarinfoAuthorizer } from "../trust/authorize.ts";
import type { NixPublicKey } from "../trust/nix_key.ts";
import { HttpSources, type HttpSourcesOptions } from "./http_sources.ts";
import { FetchPlanner } from "./planner.ts";
import type { TransferEmitter } from "./events.ts";
import type { SourceFactory } from "./source.ts";

/** A flavour's resolver, planner and authorizer. */
export interface Flavour {
  /** Narinfos from the flavour's servers, authorized by its trust. */
  readonly resolver: NarinfoResolver;
  /** NARs from the flavour's servers and from peers. */
  readonly planner: FetchPlanner;
  /** The authorizer for the trust of the moment (the Guix ACL is reloaded when its file changed). */
  authorizer(): Promise<NarinfoAuthorizer>;
}

/** What {@linkcode createFlavour} needs. */
export type FlavourInit = FlavourTrust & {
  /** The narinfo cache (shared by the flavours: entries are keyed by server URL). */
  cache: NarinfoCache;
  /** Resolver timeouts, TTLs and parallelism. */
  settings: ResolverSettings;
  /** How NARs are downloaded over HTTP. */
  http: Pick<HttpSourcesOptions, "preference" | "engine" | "connectTimeout" | "stallTimeout">;
  /** P2P sources, when the P2P layer runs. */
  p2p?: SourceFactory | undefined;
  /** Narinfos from peers (`narinfo_peers`), when the P2P layer runs. */
  peerNarinfos?: { source: PeerNarinfoSource; mode: NarinfoPeersMode } | undefined;
  /** Transfer events of the planner. */
  emit: TransferEmitter;
  /** A server could not be reached during a batch. */
  onServerError?: ((cacheUrl: string, message: string) => void) | undefined;
};

/** The flavour, its store directory and what its narinfos are checked against. */
export type FlavourTrust =
  | {
    flavour: "guix";
    storeDir: string;
    /** The ACL of the moment (reloaded when its file changed). */
    acl(): Promise<Acl>;
  }
  | {
    flavour: "nix";
    storeDir: string;
    /** `nix_trusted_public_keys`. */
    keys: readonly NixPublicKey[];
  };

/**
 * Builds a {@linkcode Flavour}: resolver, HTTP sources and planner over one
 * trust.
 *
 * @example
 * ```ts
 * import { createFlavour } from "./flavour.ts";
 * declare const init: import("./flavour.ts").FlavourInit;
 * const nix = createFlavour(init);
 * nix.planner; // fetches Nix NARs
 * ```
 */
export function createFlavour(init: FlavourInit): Flavour {
  const { storeDir } = init;
  let current = init.flavour === "nix"
    ? new NarinfoAuthorizer({ flavour: "nix", storeDir, keys: init.keys })
    : undefined;
  const authorizer = async (): Promise<NarinfoAuthorizer> => {
    if (init.flavour === "nix") return current!;
    const acl = await init.acl();
    if (current?.trust.flavour !== "guix" || current.trust.acl !== acl) {
      current = new NarinfoAuthorizer({ flavour: "guix", storeDir, acl });
    }
    return current;
  };
  const resolver = new NarinfoResolver({
    cache: init.cache,
    // Synchronous: the trust as of the last authorizer() call (every request makes one first).
    check: (text, item) => {
      if (!current) return { ok: false, reason: "the ACL is not loaded yet" };
      const verdict = current.check(text, item);
      return verdict.kind === "authorized"
        ? {
          ok: true,
          narHash: formatNarHash(verdict.narinfo.narHashDigest),
          narSize: verdict.narinfo.narSize,
          references: verdict.narinfo.references,
        }
        : { ok: false, reason: verdict.reason };
    },
    settings: init.settings,
    events: init.onServerError ? { onServerError: init.onServerError } : {},
    peers: init.peerNarinfos && {
      ...init.peerNarinfos,
      flavour: init.flavour,
      keys: () => trustedKeys(current),
    },
  });
  const planner = new FetchPlanner({
    http: new HttpSources({ ...init.http, resolver, storeDir, flavour: init.flavour }),
    ...(init.p2p ? { p2p: init.p2p } : {}),
    emit: init.emit,
  });
  return { resolver, planner, authorizer };
}

/** Most keys named in a narinfo request (docs/protocol.md §6.2). */
const MAX_REQUEST_KEYS = 16;
const keysOf = new WeakMap<NarinfoAuthorizer, Uint8Array[]>();

/** The 32-byte public keys an authorizer trusts (Guix ACL points or Nix keys), at most 16. */
function trustedKeys(authorizer: NarinfoAuthorizer | undefined): Uint8Array[] {
  if (!authorizer) return [];
  let keys = keysOf.get(authorizer);
  if (!keys) {
    const trust = authorizer.trust;
    keys = trust.flavour === "nix"
      ? trust.keys.map((k) => k.key)
      : trust.acl.entries.flatMap((e) => (e.key ? [hexDecode(e.key.hex)] : []));
    keys = keys.slice(0, MAX_REQUEST_KEYS);
    keysOf.set(authorizer, keys);
  }
  return keys;
}
