/**
 * Which upstream Nix narinfos the gateway relays: parsed as Nix narinfos
 * under `nix_store_dir`, naming the requested item (by hash part or full
 * path), and signed by a key in `nix_trusted_public_keys` (Ed25519 over the
 * fingerprint). Content-addressed items (`CA:`) are not exempt: the gateway
 * refuses to relay anything it could not verify itself.
 *
 * @example
 * ```ts
 * const check = nixNarinfoCheck(["cache.nixos.org-1:6NCH…"], "/nix/store");
 * check(text, "zqcaz08bi11gprc39cw11q7g177csdga", "https://cache.nixos.org"); // { ok: true, narHash } | { ok: false, reason }
 * ```
 * @module
 */
import { formatNarHash } from "../hash/nar_hash.ts";
import type { NarinfoCheck } from "../http/resolver.ts";
import { type Narinfo, NarinfoError, parseNarinfo } from "../narinfo/mod.ts";
import { type NixPublicKey, parseNixPublicKey, verifyNixNarinfo } from "../trust/mod.ts";

/** Parses and checks a Nix narinfo; returns the parsed narinfo too. */
export function checkNixNarinfo(
  text: string,
  key: string,
  trusted: readonly NixPublicKey[],
  storeDir: string,
): { ok: true; narinfo: Narinfo } | { ok: false; reason: string } {
  let narinfo: Narinfo;
  try {
    narinfo = parseNarinfo(text, { flavour: "nix", storeDir });
  } catch (e) {
    if (e instanceof NarinfoError) return { ok: false, reason: `malformed narinfo: ${e.message}` };
    throw e;
  }
  const base = narinfo.storePath.slice(storeDir.length + 1);
  const matches = key.startsWith("/") ? narinfo.storePath === key : base.startsWith(`${key}-`);
  if (!matches) return { ok: false, reason: `narinfo is for ${narinfo.storePath}, not ${key}` };
  const verdict = verifyNixNarinfo(narinfo, trusted, storeDir);
  if (verdict.kind !== "valid") {
    return { ok: false, reason: `not signed by a trusted key (${verdict.kind})` };
  }
  return { ok: true, narinfo };
}

/** A resolver check for Nix narinfos. */
export function nixNarinfoCheck(trustedKeys: readonly string[], storeDir: string): NarinfoCheck {
  const trusted = trustedKeys.map(parseNixPublicKey);
  return (text, key) => {
    const r = checkNixNarinfo(text, key, trusted, storeDir);
    return r.ok
      ? { ok: true, narHash: formatNarHash(r.narinfo.narHashDigest), narSize: r.narinfo.narSize }
      : r;
  };
}
