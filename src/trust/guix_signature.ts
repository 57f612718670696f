/**
 * Checking Guix narinfo signatures (../shared/docs/guix-substitute-protocol.md §4.4–§4.9):
 * the `Signature: 1;<host>;<base64>` field, the signed prefix and its SHA-256,
 * and the authorization steps of Guix's `%signature-status`. Signing is in
 * `guix_sign.ts`.
 *
 * Verification, in Guix's order: no `Signature` (or a signed part lacking
 * `StorePath`/`NarHash`/`References`) → `unsigned`; an unparseable field or no
 * `public-key`/`data` in it → `corrupt-signature`; key not in the ACL →
 * `unauthorized-key`; `(hash sha256 H)` with H ≠ SHA-256(prefix) →
 * `hash-mismatch`; ECDSA failure → `invalid-signature`; else `valid`.
 *
 * @example
 * ```ts
 * import { aclFromKeys } from "./acl.ts";
 * import { generateGuixKey } from "./guix_key.ts";
 * import { signGuixNarinfo } from "./guix_sign.ts";
 * import { verifyGuixNarinfo } from "./guix_signature.ts";
 * import { parseNarinfo } from "../narinfo/mod.ts";
 * const key = generateGuixKey();
 * const text = signGuixNarinfo({
 *   storePath: "/gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test",
 *   narHash: "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s",
 *   narSize: 1064,
 *   references: [],
 *   entries: [{ url: "nar/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test", compression: "none" }],
 * }, key, "my-host");
 * verifyGuixNarinfo(parseNarinfo(text), aclFromKeys([key.publicKey])).kind; // "valid"
 * ```
 * @module
 */
import { base64Decode } from "../encoding/base64.ts";
import { EncodingError } from "../encoding/errors.ts";
import { hexEncode } from "../encoding/hex.ts";
import { sha256Small } from "../hash/sha256_small.ts";
import { type Narinfo, NarinfoError, parseRecutils } from "../narinfo/mod.ts";
import {
  atomIs,
  atomText,
  findToken,
  listHead,
  parseSexp,
  SexpError,
  type SexpList,
} from "../sexp/mod.ts";
import type { Acl } from "./acl.ts";
import { bytesToBigInt, ecdsaVerify } from "./ecdsa.ts";
import { GuixSignatureError } from "./errors.ts";
import type { GuixPublicKey } from "./guix_key.ts";

/** Fields that must appear in the signed part for a narinfo to count as signed. */
export const GUIX_SIGNED_FIELDS: readonly string[] = ["StorePath", "NarHash", "References"];

/** The outcome of checking a Guix narinfo signature. */
export type GuixVerdict =
  | { kind: "valid"; key: GuixPublicKey; host: string }
  | { kind: "unsigned"; reason: string }
  | { kind: "corrupt-signature"; reason: string }
  | { kind: "unauthorized-key"; key: SexpList; host: string }
  | { kind: "hash-mismatch"; algorithm: string; signed: Uint8Array; actual: Uint8Array }
  | { kind: "invalid-signature"; reason: string };

/** A parsed `Signature:` value. */
export interface GuixSignatureField {
  /** Always 1. */
  version: 1;
  /** The signing host (informational). */
  host: string;
  /** The decoded `(signature (data …) (sig-val …) (public-key …))` s-expression. */
  sexp: SexpList;
}

/**
 * Parses a `Signature:` value `1;<host>;<base64 of an s-expression>`.
 *
 * @example
 * ```ts
 * import { parseGuixSignatureField } from "./guix_signature.ts";
 * parseGuixSignatureField("1;host;KGEp").sexp; // the list (a)
 * ```
 * @throws {GuixSignatureError} naming the problem.
 */
export function parseGuixSignatureField(value: string): GuixSignatureField {
  const parts = value.split(";");
  if (parts.length !== 3) {
    throw new GuixSignatureError(
      `expected "1;<host>;<base64>" (3 parts separated by ";"), got ${parts.length} part(s)`,
    );
  }
  const [version, host, payload] = parts as [string, string, string];
  if (version !== "1") {
    throw new GuixSignatureError(`unsupported version ${JSON.stringify(version)}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base64Decode(payload);
  } catch (e) {
    if (e instanceof EncodingError) throw new GuixSignatureError(`payload: ${e.message}`);
    throw e;
  }
  try {
    return { version: 1, host, sexp: parseSexp(bytes) };
  } catch (e) {
    if (e instanceof SexpError) throw new GuixSignatureError(`payload: ${e.message}`);
    throw e;
  }
}

/**
 * SHA-256 of the signed prefix (text before the first `Signature:`), or
 * `undefined` when the narinfo counts as unsigned: no `Signature:` at all, or
 * a prefix whose record lacks `StorePath`, `NarHash` or `References`.
 *
 * @example
 * ```ts
 * import { guixSignedHash } from "./guix_signature.ts";
 * import { parseNarinfo } from "../narinfo/mod.ts";
 * declare const narinfo: import("../narinfo/mod.ts").Narinfo;
 * guixSignedHash(narinfo); // 32 bytes, or undefined
 * ```
 */
export function guixSignedHash(narinfo: Pick<Narinfo, "signedPrefix">): Uint8Array | undefined {
  return unsignedReason(narinfo) === undefined ? sha256Small(narinfo.signedPrefix!) : undefined;
}

function unsignedReason(narinfo: Pick<Narinfo, "signedPrefix">): string | undefined {
  const prefix = narinfo.signedPrefix;
  if (prefix === undefined) return "no Signature field";
  let names: string[];
  try {
    names = parseRecutils(prefix).fields.map((f) => f.name);
  } catch (e) {
    if (e instanceof NarinfoError) return `the signed part does not parse: ${e.message}`;
    throw e;
  }
  const missing = GUIX_SIGNED_FIELDS.filter((f) => !names.includes(f));
  return missing.length > 0 ? `the signed part lacks ${missing.join(", ")}` : undefined;
}

/**
 * Checks a narinfo's Guix signature against an ACL.
 *
 * @example
 * ```ts
 * import { parseAcl } from "./acl.ts";
 * import { verifyGuixNarinfo } from "./guix_signature.ts";
 * import { parseNarinfo } from "../narinfo/mod.ts";
 * declare const text: string, aclText: string;
 * const verdict = verifyGuixNarinfo(parseNarinfo(text), parseAcl(aclText));
 * if (verdict.kind === "valid") console.log(verdict.key.shortHex, verdict.host);
 * ```
 */
export function verifyGuixNarinfo(
  narinfo: Pick<Narinfo, "signedPrefix" | "signature">,
  acl: Acl,
): GuixVerdict {
  const reason = unsignedReason(narinfo);
  if (reason !== undefined) return { kind: "unsigned", reason };
  if (narinfo.signature === undefined) return { kind: "unsigned", reason: "no Signature field" };
  let field: GuixSignatureField;
  try {
    field = parseGuixSignatureField(narinfo.signature);
  } catch (e) {
    if (e instanceof GuixSignatureError) return { kind: "corrupt-signature", reason: e.message };
    throw e;
  }
  return verifyGuixSignature(field.sexp, sha256Small(narinfo.signedPrefix!), acl, field.host);
}

/**
 * The §4.9 steps for a signature s-expression over `hash` (Guix's
 * `%signature-status`; also what `guix authenticate verify` checks).
 *
 * @example
 * ```ts
 * import { verifyGuixSignature } from "./guix_signature.ts";
 * declare const sig: import("../sexp/mod.ts").SexpList, hash: Uint8Array, acl: import("./acl.ts").Acl;
 * verifyGuixSignature(sig, hash, acl).kind;
 * ```
 */
export function verifyGuixSignature(
  signature: SexpList,
  hash: Uint8Array,
  acl: Acl,
  host = "",
): GuixVerdict {
  const subject = findToken(signature, "public-key");
  const data = findToken(signature, "data");
  if (!subject || !data) {
    return {
      kind: "corrupt-signature",
      reason: `the signature has no (${subject ? "data" : "public-key"} ...) element`,
    };
  }
  const entry = acl.authorize(subject);
  if (!entry) return { kind: "unauthorized-key", key: subject, host };
  const hashList = findToken(data, "hash");
  const algo = hashList?.items[1];
  const value = hashList?.items[2];
  if (!hashList || algo?.kind !== "atom" || value?.kind !== "atom") {
    return { kind: "corrupt-signature", reason: "no (hash <algorithm> <value>) in (data ...)" };
  }
  const algorithm = atomText(algo);
  if (algorithm !== "sha256" || !bytesEqual(value.bytes, hash)) {
    return { kind: "hash-mismatch", algorithm, signed: value.bytes, actual: hash };
  }
  const sigVal = readSigVal(signature, data);
  if ("reason" in sigVal) return { kind: "invalid-signature", reason: sigVal.reason };
  if (!entry.key) {
    return { kind: "invalid-signature", reason: "the authorized key is not an Ed25519 ECDSA key" };
  }
  if (!ecdsaVerify(hash, sigVal.r, sigVal.s, entry.key.point)) {
    return { kind: "invalid-signature", reason: "ECDSA verification failed" };
  }
  return { kind: "valid", key: entry.key, host };
}

// What gcry_pk_verify needs beyond the hash: (flags rfc6979) in the data, and
// (sig-val (ecdsa (r R) (s S))) — libgcrypt also accepts the name "ecc" and
// finds r and s depth-first; an "eddsa" sig-val is a conflict for these keys.
function readSigVal(
  signature: SexpList,
  data: SexpList,
): { reason: string } | { r: bigint; s: bigint } {
  const flags = findToken(data, "flags");
  if (!flags || !flags.items.slice(1).some((f) => atomIs(f, "rfc6979"))) {
    return { reason: "(data ...) lacks (flags rfc6979)" };
  }
  const sigVal = findToken(signature, "sig-val");
  if (!sigVal) return { reason: "no (sig-val ...) element" };
  const algo = sigVal.items[1];
  const name = algo === undefined ? undefined : listHead(algo);
  if (algo === undefined || (name !== "ecdsa" && name !== "ecc")) {
    return { reason: `sig-val algorithm ${JSON.stringify(name ?? "")} is not ecdsa` };
  }
  const values: bigint[] = [];
  for (const param of ["r", "s"]) {
    const v = findToken(algo, param)?.items[1];
    if (v?.kind !== "atom") return { reason: `no (${param} <integer>) in (sig-val (${name} ...))` };
    values.push(bytesToBigInt(v.bytes));
  }
  return { r: values[0]!, s: values[1]! };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Short uppercase-hex rendering of a hash for messages.
 *
 * @example
 * ```ts
 * import { shortHash } from "./guix_signature.ts";
 * shortHash(new Uint8Array(32).fill(0xab)); // "ABABAB…ABAB"
 * ```
 */
export function shortHash(bytes: Uint8Array): string {
  const h = hexEncode(bytes).toUpperCase();
  return h.length > 12 ? `${h.slice(0, 6)}…${h.slice(-4)}` : h;
}
