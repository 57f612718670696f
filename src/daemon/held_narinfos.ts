/**
 * The verified narinfos this daemon holds, as it serves them to peers
 * (docs/protocol.md §6.3): the texts in its narinfo cache — from its
 * servers, or from peers (`p2p://`) — that its current trust authorizes,
 * byte for byte as signed, whatever their age (a signature does not expire;
 * the asker applies its own TTLs). Only narinfos signed by one of the keys
 * the asker names are given; with `narinfo_serve = "seeded"`, only those of
 * items seeded here. Misses cost no file system call once a server's cache
 * directory was listed, so "not held" is answered at once.
 *
 * @example
 * ```ts
 * const held = new HeldNarinfos({ cache, config, guix, nix });
 * const [text] = await held.held("guix", ["0ad3jr1jlg1p2sfxbqcyvgmr3bf5mcrc"], undefined);
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";
import { hexEncode } from "../encoding/hex.ts";
import type { Flavour } from "../fetch/flavour.ts";
import type { NarinfoCache } from "../http/narinfo_cache.ts";
import { P2P_CACHE_URL } from "../http/peer_narinfos.ts";
import type { NarinfoHoldings } from "../p2p/narinfo/mod.ts";

/** What {@linkcode HeldNarinfos} reads. */
export interface HeldNarinfosInit {
  cache: NarinfoCache;
  config: Pick<
    Config,
    "narinfo_serve" | "store_dir" | "nix_store_dir" | "substitute_urls" | "nix_upstream_urls"
  >;
  guix: Flavour;
  nix: Flavour;
  /** Whether a NarHash (hex) is seeded here. */
  seeded?: (narHashHex: string) => boolean;
}

const STORE_PATH = /^StorePath: (\S+)$/m;

/** The daemon's verified narinfos. */
export class HeldNarinfos implements NarinfoHoldings {
  #o: HeldNarinfosInit;

  /** Creates the view over the cache. */
  constructor(init: HeldNarinfosInit) {
    this.#o = init;
  }

  /** See {@linkcode NarinfoHoldings.held}. */
  async held(
    flavour: "guix" | "nix",
    hashParts: readonly string[],
    keys: readonly Uint8Array[] | undefined,
  ): Promise<(string | undefined)[]> {
    const c = this.#o.config;
    if (c.narinfo_serve === "off") return hashParts.map(() => undefined);
    const side = flavour === "guix" ? this.#o.guix : this.#o.nix;
    const storeDir = flavour === "guix" ? c.store_dir : c.nix_store_dir;
    const urls = [P2P_CACHE_URL, ...(flavour === "guix" ? c.substitute_urls : c.nix_upstream_urls)];
    const authorizer = await side.authorizer();
    const wanted = keys && new Set(keys.map(hexEncode));
    const one = async (hashPart: string): Promise<string | undefined> => {
      for (const url of urls) {
        const entry = await this.#o.cache.getStale(url, hashPart);
        if (entry?.kind !== "found") continue;
        // Checked as the store path it names: the resolver's verdict on the same text is memoised.
        const path = STORE_PATH.exec(entry.text)?.[1];
        if (!path?.startsWith(`${storeDir}/${hashPart}-`)) continue;
        const v = authorizer.check(entry.text, path);
        if (v.kind !== "authorized" || !v.signerKey) continue;
        if (wanted && !wanted.has(hexEncode(v.signerKey))) continue;
        if (c.narinfo_serve === "seeded" && !this.#o.seeded?.(hexEncode(v.narinfo.narHashDigest))) {
          continue;
        }
        return entry.text;
      }
      return undefined;
    };
    return await Promise.all(hashParts.map(one));
  }
}
