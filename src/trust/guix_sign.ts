/**
 * Signing Guix narinfos as `guix publish` does (guix/pki.scm `signature-sexp`,
 * ../shared/docs/guix-substitute-protocol.md §4.7–§4.8, §9.1): SHA-256 of the signed text,
 * ECDSA over edwards25519 with libgcrypt's RFC 6979 nonce, the `(signature …)`
 * s-expression printed in libgcrypt's advanced format, base64-encoded into
 * `Signature: 1;<host>;<base64>`.
 *
 * @example
 * ```ts
 * import { generateGuixKey } from "./guix_key.ts";
 * import { signGuixNarinfo } from "./guix_sign.ts";
 * const text = signGuixNarinfo({
 *   storePath: "/gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test",
 *   narHash: "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s",
 *   narSize: 1064,
 *   references: [],
 *   entries: [{ url: "nar/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test", compression: "none" }],
 * }, generateGuixKey(), "my-host");
 * ```
 * @module
 */
import { base64Encode } from "../encoding/base64.ts";
import { sha256Small } from "../hash/sha256_small.ts";
import {
  formatGuixNarinfo,
  type GuixNarinfoLayout,
  guixOldSignedBlock,
  guixSignedBlock,
  type NarinfoContent,
} from "../narinfo/mod.ts";
import { list, printAdvancedBytes, type SexpList } from "../sexp/mod.ts";
import { bigIntToMinimalBytes, ecdsaSign } from "./ecdsa.ts";
import { GuixSignatureError } from "./errors.ts";
import type { GuixPrivateKey } from "./guix_key.ts";

/**
 * The signature s-expression Guix builds (`signature-sexp`): `(signature (data
 * (flags rfc6979) (hash sha256 #H#)) (sig-val (ecdsa (r #…#) (s #…#)))
 * <public-key>)`, with r and s as libgcrypt prints them (minimal unsigned bytes).
 *
 * @example
 * ```ts
 * import { generateGuixKey } from "./guix_key.ts";
 * import { guixSignatureSexp } from "./guix_sign.ts";
 * guixSignatureSexp(new Uint8Array(32), generateGuixKey()).items.length; // 4
 * ```
 */
export function guixSignatureSexp(hash: Uint8Array, key: GuixPrivateKey): SexpList {
  if (hash.length !== 32) {
    throw new RangeError(`expected a 32-byte SHA-256 hash, got ${hash.length} bytes`);
  }
  const { r, s } = ecdsaSign(hash, key.d);
  return list(
    "signature",
    list("data", list("flags", "rfc6979"), list("hash", "sha256", hash)),
    list(
      "sig-val",
      list("ecdsa", list("r", bigIntToMinimalBytes(r)), list("s", bigIntToMinimalBytes(s))),
    ),
    key.publicKey.sexp,
  );
}

/**
 * The `Signature:` value (`1;<host>;<base64>`) for the signed text `signed`
 * (everything the narinfo will contain before `Signature:`).
 *
 * @example
 * ```ts
 * import { generateGuixKey } from "./guix_key.ts";
 * import { guixSignatureValue } from "./guix_sign.ts";
 * guixSignatureValue("StorePath: …\n", generateGuixKey(), "host").startsWith("1;host;"); // true
 * ```
 * @throws {GuixSignatureError} when `host` contains `;` or a line break.
 */
export function guixSignatureValue(signed: string, key: GuixPrivateKey, host: string): string {
  if (/[;\r\n]/.test(host)) {
    throw new GuixSignatureError(`invalid host name ${JSON.stringify(host)}`);
  }
  if (signed.includes("Signature:")) {
    throw new GuixSignatureError(
      `the text to sign contains "Signature:", which would cut the signed part`,
    );
  }
  const sexp = guixSignatureSexp(sha256Small(signed), key);
  return `1;${host};${base64Encode(printAdvancedBytes(sexp))}`;
}

/**
 * The `Signature:` line (with its newline) to append to the signed text `signed`.
 *
 * @example
 * ```ts
 * import { generateGuixKey } from "./guix_key.ts";
 * import { guixSignatureLine } from "./guix_sign.ts";
 * const block = "StorePath: /gnu/store/…\n";
 * const narinfo = block + guixSignatureLine(block, generateGuixKey(), "host"); // "...Signature: 1;host;…\n"
 * ```
 */
export function guixSignatureLine(signed: string, key: GuixPrivateKey, host: string): string {
  return `Signature: ${guixSignatureValue(signed, key, host)}\n`;
}

/**
 * A complete signed Guix narinfo in `layout` (default the current `guix
 * publish` layout); any `signature` in `info` is replaced.
 *
 * @example
 * ```ts
 * import { generateGuixKey } from "./guix_key.ts";
 * import { signGuixNarinfo } from "./guix_sign.ts";
 * declare const info: import("../narinfo/mod.ts").NarinfoContent;
 * const text = signGuixNarinfo(info, generateGuixKey(), "my-host");
 * ```
 */
export function signGuixNarinfo(
  info: NarinfoContent,
  key: GuixPrivateKey,
  host: string,
  layout: GuixNarinfoLayout = "publish",
): string {
  const signed = layout === "old" ? guixOldSignedBlock(info) : guixSignedBlock(info);
  return formatGuixNarinfo({ ...info, signature: guixSignatureValue(signed, key, host) }, layout);
}
