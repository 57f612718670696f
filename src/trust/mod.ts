/**
 * Trust: Guix narinfo signatures (ECDSA over edwards25519 with libgcrypt
 * semantics, key files, the ACL) and Nix narinfo signatures (Ed25519 over the
 * fingerprint). Pure: key and ACL files are read through a
 * {@linkcode TrustFiles} reader (the Deno one is in `src/fs/`).
 *
 * @example
 * ```ts
 * import { loadAcl, verifyGuixNarinfo } from "./mod.ts";
 * import { parseNarinfo } from "../narinfo/mod.ts";
 * import { denoTrustFiles } from "../fs/mod.ts";
 * const acl = await loadAcl("/etc/guix/acl", denoTrustFiles);
 * const verdict = verifyGuixNarinfo(parseNarinfo(await Deno.readTextFile("x.narinfo")), acl);
 * console.log(verdict.kind);
 * ```
 * @module
 */
export {
  AclError,
  GuixKeyError,
  GuixSignatureError,
  NixKeyError,
  TrustFileError,
} from "./errors.ts";
export {
  bigIntToBytes,
  bigIntToMinimalBytes,
  bytesToBigInt,
  CURVE_ORDER,
  decodePoint,
  ecdsaSign,
  type EcdsaSignature,
  ecdsaVerify,
  type EdwardsPoint,
  encodePoint,
  FIELD_PRIME,
  hashToInteger,
  KEY_WINDOW,
  precomputePoint,
  publicPointFromSecret,
  rfc6979Nonces,
} from "./ecdsa.ts";
export {
  generateGuixKey,
  GUIX_CURVE,
  GuixPrivateKey,
  guixPrivateKeyFromScalar,
  GuixPublicKey,
  guixPublicKeyFromQ,
  parseGuixPrivateKey,
  parseGuixPublicKey,
} from "./guix_key.ts";
export {
  Acl,
  type AclEntry,
  aclFromKeys,
  formatAcl,
  parseAcl,
  type ParseAclOptions,
} from "./acl.ts";
export {
  GUIX_SIGNED_FIELDS,
  type GuixSignatureField,
  guixSignedHash,
  type GuixVerdict,
  parseGuixSignatureField,
  shortHash,
  verifyGuixNarinfo,
  verifyGuixSignature,
} from "./guix_signature.ts";
export {
  guixSignatureLine,
  guixSignatureSexp,
  guixSignatureValue,
  signGuixNarinfo,
} from "./guix_sign.ts";
export {
  generateNixSecretKey,
  type NixPublicKey,
  nixPublicKey,
  type NixSecretKey,
  nixSecretKeyFromSeed,
  parseNixPublicKey,
  parseNixSecretKey,
} from "./nix_key.ts";
export {
  type FingerprintFields,
  nixFingerprint,
  type NixVerdict,
  signNixNarinfo,
  verifyNixNarinfo,
} from "./nix_signature.ts";
export {
  defaultAclPath,
  loadAcl,
  loadGuixPrivateKey,
  loadGuixPublicKey,
  loadNixSecretKey,
  type TrustFiles,
} from "./files.ts";
export {
  type Authorization,
  authorizeNarinfo,
  type AuthorizerOptions,
  describeVerdict,
  isForItem,
  NarinfoAuthorizer,
  type NarinfoTrust,
  type TrustVerdict,
} from "./authorize.ts";
