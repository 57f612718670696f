/**
 * Whether a narinfo may be used for a requested store path: it parses as a
 * Guix narinfo, its `StorePath` is exactly the requested path (Guix does not
 * check this; we do — guix-substitute-protocol.md §2.4, §6.2), and its
 * signature verifies against the ACL (§4.9). Used by the helper (which trusts
 * nothing it did not check itself) and by the daemon (to pick, among servers,
 * the first narinfo that the helper will accept).
 *
 * Verdicts are memoised per narinfo text for one ACL, so answering a `have`
 * of 1000 paths a second time costs no signature verification.
 *
 * @example
 * ```ts
 * import { NarinfoAuthorizer } from "./authorize.ts";
 * const authorizer = new NarinfoAuthorizer(acl, { storeDir: "/gnu/store" });
 * const verdict = authorizer.check(text, "/gnu/store/…-hello-2.12.2");
 * if (verdict.ok) console.log(verdict.narinfo.narSize);
 * ```
 * @module
 */
import { type Narinfo, NarinfoError, parseNarinfo } from "../narinfo/mod.ts";
import type { Acl } from "../trust/acl.ts";
import { verifyGuixNarinfo } from "../trust/guix_signature.ts";

/** The verdict for one (narinfo text, requested path). */
export type Authorization =
  | { ok: true; narinfo: Narinfo; signer: string }
  | { ok: false; reason: string };

/** Options of {@linkcode NarinfoAuthorizer}. */
export interface AuthorizerOptions {
  /** The store directory paths must be under. */
  storeDir: string;
  /** Accept unsigned narinfos (GUIX_ALLOW_UNAUTHENTICATED_SUBSTITUTES=yes). */
  allowUnauthenticated?: boolean;
  /** Memoised verdicts kept (default 20000). */
  memo?: number;
}

/** Checks narinfos against one ACL. */
export class NarinfoAuthorizer {
  readonly acl: Acl;
  #options: AuthorizerOptions;
  #memo = new Map<string, Authorization>();

  /** Creates an authorizer for `acl`. */
  constructor(acl: Acl, options: AuthorizerOptions) {
    this.acl = acl;
    this.#options = options;
  }

  /** Checks `text` as the narinfo of `storePath`. */
  check(text: string, storePath: string): Authorization {
    const key = `${storePath}\n${text}`;
    const hit = this.#memo.get(key);
    if (hit) return hit;
    const verdict = this.#check(text, storePath);
    this.#memo.set(key, verdict);
    if (this.#memo.size > (this.#options.memo ?? 20000)) {
      const oldest = this.#memo.keys().next().value;
      if (oldest !== undefined) this.#memo.delete(oldest);
    }
    return verdict;
  }

  #check(text: string, storePath: string): Authorization {
    let narinfo: Narinfo;
    try {
      narinfo = parseNarinfo(text, { flavour: "guix", storeDir: this.#options.storeDir });
    } catch (e) {
      if (e instanceof NarinfoError) {
        return { ok: false, reason: `malformed narinfo: ${e.message}` };
      }
      throw e;
    }
    if (narinfo.storePath !== storePath) {
      return { ok: false, reason: `narinfo is for ${narinfo.storePath}, not ${storePath}` };
    }
    if (this.#options.allowUnauthenticated) return { ok: true, narinfo, signer: "unauthenticated" };
    const verdict = verifyGuixNarinfo(narinfo, this.acl);
    switch (verdict.kind) {
      case "valid":
        return {
          ok: true,
          narinfo,
          signer: `${verdict.key.shortHex}${verdict.host ? ` (${verdict.host})` : ""}`,
        };
      case "unsigned":
        return { ok: false, reason: `unsigned narinfo: ${verdict.reason}` };
      case "corrupt-signature":
        return { ok: false, reason: `corrupt signature: ${verdict.reason}` };
      case "unauthorized-key":
        return {
          ok: false,
          reason: `signed by a key not in the ACL (host ${verdict.host || "?"})`,
        };
      case "hash-mismatch":
        return { ok: false, reason: "signature is for different narinfo contents" };
      case "invalid-signature":
        return { ok: false, reason: `invalid signature: ${verdict.reason}` };
    }
  }
}
