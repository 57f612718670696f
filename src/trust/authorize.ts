/**
 * Whether a narinfo may be used for a requested item, for both flavours, in
 * one place: it parses as a narinfo of the flavour under the store directory,
 * it describes the requested item (a full store path, which must be equal —
 * Guix does not check this; we do, ../shared/docs/guix-substitute-protocol.md §2.4, §6.2 — or
 * a hash part, as the gateway's clients name items), and it is signed by a
 * trusted key: a key of the Guix ACL (§4.9), or one of Nix's trusted public
 * keys (Ed25519 over the fingerprint). Content-addressed Nix items (`CA:`) are
 * not exempt. Used by the helper (which trusts nothing it did not check
 * itself), the daemon's resolvers, the gateway and `guix-p2p narinfo verify`.
 *
 * Verdicts are memoised per narinfo text, so answering a `have` of 1000 paths
 * a second time costs no signature verification.
 *
 * @example
 * ```ts
 * import { NarinfoAuthorizer } from "./authorize.ts";
 * import { Acl } from "./acl.ts";
 * declare const text: string;
 * const authorizer = new NarinfoAuthorizer({ flavour: "guix", storeDir: "/gnu/store", acl: new Acl([]) });
 * const verdict = authorizer.check(text, "/gnu/store/…-hello-2.12.2");
 * if (verdict.kind === "authorized") console.log(verdict.narinfo.narSize);
 * else console.log(verdict.reason);
 * ```
 * @module
 */
import { hexDecode } from "../encoding/hex.ts";
import { type Narinfo, NarinfoError, parseNarinfo } from "../narinfo/mod.ts";
import { findToken } from "../sexp/mod.ts";
import type { Acl } from "./acl.ts";
import { type GuixVerdict, shortHash, verifyGuixNarinfo } from "./guix_signature.ts";
import type { NixPublicKey } from "./nix_key.ts";
import { type NixVerdict, verifyNixNarinfo } from "./nix_signature.ts";

/** What narinfos are checked against. */
export type NarinfoTrust =
  | {
    flavour: "guix";
    /** The store directory items must be under. */
    storeDir: string;
    /** The keys authorized for archive imports (`/etc/guix/acl`). */
    acl: Acl;
    /** Accept unsigned narinfos (GUIX_ALLOW_UNAUTHENTICATED_SUBSTITUTES=yes). */
    allowUnauthenticated?: boolean | undefined;
  }
  | {
    flavour: "nix";
    /** The store directory items must be under. */
    storeDir: string;
    /** `trusted-public-keys`. */
    keys: readonly NixPublicKey[];
  };

/** A signature verdict of either flavour. */
export type TrustVerdict =
  | { flavour: "guix"; verdict: GuixVerdict }
  | { flavour: "nix"; verdict: NixVerdict };

/** The verdict for one (narinfo text, requested item); every refusal says why in `reason`. */
export type Authorization =
  | {
    kind: "authorized";
    narinfo: Narinfo;
    /** Guix: `7D6029…E34F (host)` or `unauthenticated`; Nix: the key name. */
    signer: string;
    /** The signing key's 32-byte Ed25519 public key (none when unauthenticated). */
    signerKey?: Uint8Array;
  }
  | { kind: "malformed"; reason: string }
  | { kind: "other-item"; narinfo: Narinfo; reason: string }
  | ({ kind: "untrusted"; narinfo: Narinfo; reason: string } & TrustVerdict);

/**
 * Whether `narinfo`'s store path is the requested `item`: a full store path
 * (equal), or a store-path hash part.
 *
 * @example
 * ```ts
 * import { isForItem } from "./authorize.ts";
 * isForItem("/nix/store/zqcaz08bi11gprc39cw11q7g177csdga-hello", "zqcaz08bi11gprc39cw11q7g177csdga", "/nix/store"); // true
 * ```
 */
export function isForItem(storePath: string, item: string, storeDir: string): boolean {
  return item.startsWith("/") ? storePath === item : storePath.startsWith(`${storeDir}/${item}-`);
}

/**
 * Checks narinfo `text` for `item` (see the module documentation).
 *
 * @example
 * ```ts
 * import { authorizeNarinfo } from "./authorize.ts";
 * declare const text: string;
 * const verdict = authorizeNarinfo(text, "zqcaz08bi11gprc39cw11q7g177csdga", {
 *   flavour: "nix",
 *   storeDir: "/nix/store",
 *   keys: [],
 * });
 * verdict.kind; // "untrusted": no trusted key
 * ```
 */
export function authorizeNarinfo(
  text: string,
  item: string,
  trust: NarinfoTrust,
): Authorization {
  let narinfo: Narinfo;
  try {
    narinfo = parseNarinfo(text, { flavour: trust.flavour, storeDir: trust.storeDir });
  } catch (e) {
    if (e instanceof NarinfoError) {
      return { kind: "malformed", reason: `malformed narinfo: ${e.message}` };
    }
    throw e;
  }
  if (!isForItem(narinfo.storePath, item, trust.storeDir)) {
    return {
      kind: "other-item",
      narinfo,
      reason: `narinfo is for ${narinfo.storePath}, not ${item}`,
    };
  }
  if (trust.flavour === "nix") {
    const verdict = verifyNixNarinfo(narinfo, trust.keys, trust.storeDir);
    if (verdict.kind === "valid") {
      const key = trust.keys.find((k) => k.name === verdict.keyName)?.key;
      return {
        kind: "authorized",
        narinfo,
        signer: verdict.keyName,
        ...(key ? { signerKey: key } : {}),
      };
    }
    const reason = describeVerdict({ flavour: "nix", verdict });
    return { kind: "untrusted", narinfo, reason, flavour: "nix", verdict };
  }
  if (trust.allowUnauthenticated) return { kind: "authorized", narinfo, signer: "unauthenticated" };
  const verdict = verifyGuixNarinfo(narinfo, trust.acl);
  if (verdict.kind === "valid") {
    const host = verdict.host ? ` (${verdict.host})` : "";
    return {
      kind: "authorized",
      narinfo,
      signer: `${verdict.key.shortHex}${host}`,
      signerKey: hexDecode(verdict.key.hex),
    };
  }
  const reason = describeVerdict({ flavour: "guix", verdict });
  return { kind: "untrusted", narinfo, reason, flavour: "guix", verdict };
}

/**
 * One line for a signature verdict of either flavour, as the helper logs it,
 * the gateway reports it and `guix-p2p narinfo verify` prints it. `acl` names
 * the ACL in "not in …" (default "the ACL").
 *
 * @example
 * ```ts
 * import { describeVerdict } from "./authorize.ts";
 * describeVerdict({ flavour: "nix", verdict: { kind: "unsigned" } }); // "unsigned: no Sig field"
 * ```
 */
export function describeVerdict(v: TrustVerdict, acl = "the ACL"): string {
  if (v.flavour === "nix") {
    const verdict = v.verdict;
    switch (verdict.kind) {
      case "valid":
        return `valid: signed by Nix key ${verdict.keyName}`;
      case "unsigned":
        return "unsigned: no Sig field";
      case "unauthorized-key":
        return `unknown key: no signature by a trusted key (signed by: ${
          verdict.keyNames.join(", ")
        })`;
      case "corrupt-signature":
        return `corrupt signature by ${verdict.keyName}: ${verdict.reason}`;
      case "invalid-signature":
        return `bad signature: the Sig by trusted key ${verdict.keyName} does not verify`;
    }
  }
  const verdict = v.verdict;
  switch (verdict.kind) {
    case "valid":
      return `valid: signed by Ed25519 key ${verdict.key.shortHex} (host ${verdict.host})`;
    case "unsigned":
      return `unsigned: ${verdict.reason}`;
    case "corrupt-signature":
      return `corrupt signature: ${verdict.reason}`;
    case "unauthorized-key": {
      const q = findToken(verdict.key, "q")?.items[1];
      const bytes = q?.kind === "atom"
        ? (q.bytes.length === 33 ? q.bytes.subarray(1) : q.bytes)
        : undefined;
      const key = bytes ? `key ${shortHash(bytes)}` : "(a key without q)";
      return `unknown key: signed by ${key} (host ${verdict.host || "?"}), which is not in ${acl}`;
    }
    case "hash-mismatch":
      return verdict.algorithm === "sha256"
        ? `hash mismatch: the signature covers sha256 ${
          shortHash(verdict.signed)
        }, the text before "Signature:" hashes to ${shortHash(verdict.actual)}`
        : `hash mismatch: the signature covers a "${verdict.algorithm}" hash, expected sha256`;
    case "invalid-signature":
      return `bad signature: ${verdict.reason}`;
  }
}

/** Options of {@linkcode NarinfoAuthorizer}. */
export interface AuthorizerOptions {
  /** Memoised verdicts kept (default 20000). */
  memo?: number | undefined;
}

/** Checks narinfos against one {@linkcode NarinfoTrust}, memoising verdicts. */
export class NarinfoAuthorizer {
  /** What this authorizer checks against. */
  readonly trust: NarinfoTrust;
  #memo = new Map<string, Authorization>();
  #limit: number;

  /** Creates an authorizer for `trust`. */
  constructor(trust: NarinfoTrust, options: AuthorizerOptions = {}) {
    this.trust = trust;
    this.#limit = options.memo ?? 20000;
  }

  /** Checks `text` as the narinfo of `item` (a store path or a hash part). */
  check(text: string, item: string): Authorization {
    const key = `${item}\n${text}`;
    const hit = this.#memo.get(key);
    if (hit) return hit;
    const verdict = authorizeNarinfo(text, item, this.trust);
    this.#memo.set(key, verdict);
    if (this.#memo.size > this.#limit) {
      const oldest = this.#memo.keys().next().value;
      if (oldest !== undefined) this.#memo.delete(oldest);
    }
    return verdict;
  }
}
