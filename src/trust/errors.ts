/**
 * Errors of the trust layer: key files, ACLs and signature fields.
 *
 * @example
 * ```ts
 * import { AclError, GuixKeyError, NixKeyError } from "./errors.ts";
 * new GuixKeyError("q: expected 32 bytes, got 31").message; // "Guix key: q: expected 32 bytes, got 31"
 * new AclError("entry 2: missing (tag (guix import))").name; // "AclError"
 * new NixKeyError('no ":" in "abc"').name; // "NixKeyError"
 * ```
 * @module
 */

/** A Guix key s-expression is malformed or not an Ed25519 ECDSA key. */
export class GuixKeyError extends Error {
  /** Creates the error; `detail` names the element and the offending value. */
  constructor(detail: string) {
    super(`Guix key: ${detail}`);
    this.name = "GuixKeyError";
  }
}

/** An ACL file is not exactly `(acl (entry <public-key> (tag (guix import))) ...)`. */
export class AclError extends Error {
  /** Creates the error; `detail` names the entry and what is wrong with it. */
  constructor(detail: string) {
    super(`invalid access-control list: ${detail}`);
    this.name = "AclError";
  }
}

/** A Nix key (`name:base64`) is malformed. */
export class NixKeyError extends Error {
  /** Creates the error; `detail` names the problem and the offending value. */
  constructor(detail: string) {
    super(`Nix key: ${detail}`);
    this.name = "NixKeyError";
  }
}

/** A narinfo `Signature:` value is malformed (wrong shape, version, base64 or s-expression). */
export class GuixSignatureError extends Error {
  /** Creates the error; `detail` names the problem and the offending value. */
  constructor(detail: string) {
    super(`Guix signature: ${detail}`);
    this.name = "GuixSignatureError";
  }
}

/** A key or ACL file could not be read or parsed; the message starts with its path. */
export class TrustFileError extends Error {
  /** The file concerned. */
  readonly path: string;

  /** Creates the error for `path`; `detail` is the reason (often the parser's message). */
  constructor(path: string, detail: string, options?: ErrorOptions) {
    super(`${path}: ${detail}`, options);
    this.name = "TrustFileError";
    this.path = path;
  }
}
