/**
 * Nix narinfo signatures (../shared/docs/nix-binary-cache.md §4.2–§4.3): an RFC 8032 Ed25519
 * signature over the fingerprint
 * `1;<StorePath>;<NarHash as sha256:nix32>;<NarSize>;<sorted full reference paths, comma-joined>`,
 * written `Sig: <keyname>:<base64>`. One valid signature by a trusted key
 * suffices. Content-addressed narinfos (`CA:`) are not trusted here: callers
 * that want Nix's rule can look at `ca` themselves.
 *
 * @example
 * ```ts
 * import { generateNixSecretKey } from "./nix_key.ts";
 * import { signNixNarinfo, verifyNixNarinfo } from "./nix_signature.ts";
 * import { formatNixNarinfo, parseNarinfo } from "../narinfo/mod.ts";
 * const key = generateNixSecretKey("cache-1");
 * const info = {
 *   storePath: "/nix/store/zqcaz08bi11gprc39cw11q7g177csdga-top",
 *   narHash: "sha256:0zx2zar1x03zckxwxwlhkspgiv3sg6x6mibriiia13bsqfg3wsrn",
 *   narSize: 768,
 *   references: [],
 *   entries: [{ url: "nar/x.nar", compression: "none" }],
 * };
 * const text = formatNixNarinfo({ ...info, sigs: [signNixNarinfo(info, key)] });
 * verifyNixNarinfo(parseNarinfo(text, { flavour: "nix" }), [key.publicKey]).kind; // "valid"
 * ```
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { base64Decode, base64Encode } from "../encoding/base64.ts";
import { formatNarHash, parseNarHash } from "../hash/nar_hash.ts";
import type { NarinfoContent } from "../narinfo/mod.ts";
import type { NixPublicKey, NixSecretKey } from "./nix_key.ts";

/** The outcome of checking a Nix narinfo's `Sig:` fields. */
export type NixVerdict =
  | { kind: "valid"; keyName: string }
  | { kind: "unsigned" }
  | { kind: "unauthorized-key"; keyNames: string[] }
  | { kind: "corrupt-signature"; keyName: string; reason: string }
  | { kind: "invalid-signature"; keyName: string };

/** The fields the fingerprint covers. */
export type FingerprintFields = Pick<
  NarinfoContent,
  "storePath" | "narHash" | "narSize" | "references"
>;

/**
 * The exact bytes Nix signs (`ValidPathInfo::fingerprint`), as text. The
 * NarHash is normalised to `sha256:<nix32>`; references become full paths
 * under `storeDir`, sorted and de-duplicated.
 *
 * @example
 * ```ts
 * import { nixFingerprint } from "./nix_signature.ts";
 * nixFingerprint({
 *   storePath: "/nix/store/zqcaz08bi11gprc39cw11q7g177csdga-top",
 *   narHash: "sha256:0zx2zar1x03zckxwxwlhkspgiv3sg6x6mibriiia13bsqfg3wsrn",
 *   narSize: 768,
 *   references: ["xglgicngsyrdq9w7r3i4gd4d12mq2x5a-tree", "5qn9lblnzjgza2vb23kwaclrcxnska2z-dep"],
 * }, "/nix/store");
 * // "1;/nix/store/zqca…-top;sha256:0zx2…;768;/nix/store/5qn9…-dep,/nix/store/xglg…-tree"
 * ```
 */
export function nixFingerprint(info: FingerprintFields, storeDir: string): string {
  const dir = storeDir.replace(/\/+$/, "");
  const narHash = formatNarHash(parseNarHash(info.narHash, { lenient: true }));
  const refs = [...new Set(info.references.map((r) => `${dir}/${r}`))].sort();
  return `1;${info.storePath};${narHash};${info.narSize};${refs.join(",")}`;
}

function storeDirOf(storePath: string): string {
  return storePath.slice(0, storePath.lastIndexOf("/"));
}

/**
 * The `Sig:` value `<keyname>:<base64>` for `info`, as `nix store sign` makes it.
 *
 * @example
 * ```ts
 * import { generateNixSecretKey } from "./nix_key.ts";
 * import { signNixNarinfo } from "./nix_signature.ts";
 * declare const info: import("./nix_signature.ts").FingerprintFields;
 * signNixNarinfo(info, generateNixSecretKey("k")).startsWith("k:"); // true
 * ```
 */
export function signNixNarinfo(
  info: FingerprintFields,
  key: NixSecretKey,
  storeDir: string = storeDirOf(info.storePath),
): string {
  const message = new TextEncoder().encode(nixFingerprint(info, storeDir));
  return `${key.name}:${base64Encode(ed25519.sign(message, key.seed))}`;
}

/**
 * Checks the `Sig:` values of a narinfo against trusted keys: `valid` as soon
 * as one signature by a trusted key verifies.
 *
 * @example
 * ```ts
 * import { parseNixPublicKey } from "./nix_key.ts";
 * import { verifyNixNarinfo } from "./nix_signature.ts";
 * import { parseNarinfo } from "../narinfo/mod.ts";
 * declare const text: string;
 * const trusted = [parseNixPublicKey("test-1:VPWKW6Qrw5bsNsswfvvvc+JbHMzmCt5wI/IUUgBdKZ8=")];
 * verifyNixNarinfo(parseNarinfo(text, { flavour: "nix" }), trusted).kind;
 * ```
 */
export function verifyNixNarinfo(
  info: FingerprintFields & Pick<NarinfoContent, "sigs">,
  trusted: readonly NixPublicKey[],
  storeDir: string = storeDirOf(info.storePath),
): NixVerdict {
  const sigs = info.sigs ?? [];
  if (sigs.length === 0) return { kind: "unsigned" };
  const message = new TextEncoder().encode(nixFingerprint(info, storeDir));
  let failure: NixVerdict | undefined;
  const names: string[] = [];
  for (const sig of sigs) {
    const colon = sig.indexOf(":");
    const keyName = colon < 0 ? "" : sig.slice(0, colon);
    names.push(keyName);
    const keys = trusted.filter((k) => k.name === keyName);
    if (keys.length === 0) continue;
    let bytes: Uint8Array;
    try {
      bytes = base64Decode(sig.slice(colon + 1));
    } catch (e) {
      failure ??= { kind: "corrupt-signature", keyName, reason: (e as Error).message };
      continue;
    }
    if (bytes.length !== 64) {
      failure ??= {
        kind: "corrupt-signature",
        keyName,
        reason: `signature is ${bytes.length} bytes, expected 64`,
      };
      continue;
    }
    for (const key of keys) {
      if (ed25519.verify(bytes, message, key.key, { zip215: false })) {
        return { kind: "valid", keyName };
      }
    }
    failure ??= { kind: "invalid-signature", keyName };
  }
  return failure ?? { kind: "unauthorized-key", keyNames: names };
}
