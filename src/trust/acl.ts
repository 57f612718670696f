/**
 * Guix's access-control list (`/etc/guix/acl`): exactly
 * `(acl (entry <public-key> (tag (guix import))) …)`, printed by Guix in
 * libgcrypt's advanced format (../shared/docs/guix-substitute-protocol.md §4.9). Key equality
 * is structural: same list shape and byte-equal atoms in order.
 *
 * @example
 * ```ts
 * import { aclFromKeys, formatAcl, parseAcl } from "./acl.ts";
 * import { generateGuixKey } from "./guix_key.ts";
 * const key = generateGuixKey().publicKey;
 * const acl = parseAcl(formatAcl(aclFromKeys([key])));
 * acl.authorize(key.sexp)?.key?.hex === key.hex; // true
 * ```
 * @module
 */
import {
  atomIs,
  list,
  listHead,
  parseSexp,
  printAdvanced,
  type Sexp,
  sexpEquals,
  SexpError,
  type SexpList,
} from "../sexp/mod.ts";
import { AclError, GuixKeyError } from "./errors.ts";
import { GuixPublicKey, parseGuixPublicKey } from "./guix_key.ts";

/** One ACL entry. */
export interface AclEntry {
  /** The entry's `(public-key ...)` s-expression, compared structurally. */
  readonly keySexp: SexpList;
  /**
   * The key as a Guix Ed25519 ECDSA key, with its window table precomputed;
   * `undefined` for keys of other types (authorized, but never verifiable here).
   */
  readonly key: GuixPublicKey | undefined;
}

/** A parsed ACL. */
export class Acl {
  /** The entries, in file order. */
  readonly entries: readonly AclEntry[];

  /** Wraps entries; use {@linkcode parseAcl} or {@linkcode aclFromKeys}. */
  constructor(entries: readonly AclEntry[]) {
    this.entries = entries;
  }

  /** The entry whose key is structurally equal to `keySexp`, if any. */
  authorize(keySexp: Sexp): AclEntry | undefined {
    return this.entries.find((e) => sexpEquals(e.keySexp, keySexp));
  }

  /** The s-expression `(acl (entry KEY (tag (guix import))) …)`. */
  toSexp(): SexpList {
    return list("acl", ...this.entries.map((e) => entrySexp(e.keySexp)));
  }
}

function entrySexp(key: SexpList): SexpList {
  return list("entry", key, list("tag", list("guix", "import")));
}

function makeEntry(keySexp: SexpList, precompute: boolean): AclEntry {
  let key: GuixPublicKey | undefined;
  try {
    key = parseGuixPublicKey(keySexp);
    if (precompute) key.precompute();
  } catch (e) {
    if (!(e instanceof GuixKeyError)) throw e;
  }
  return { keySexp, key };
}

/** Options of {@linkcode parseAcl}. */
export interface ParseAclOptions {
  /** Build the window tables of the Ed25519 keys now (default true). */
  precompute?: boolean;
}

/**
 * Parses an ACL strictly: the top list must be `acl`; each element must be
 * `(entry (public-key ...) (tag (guix import)))`.
 *
 * @example
 * ```ts
 * import { parseAcl } from "./acl.ts";
 * parseAcl("(acl)").entries.length; // 0
 * ```
 * @throws {AclError} naming the entry (1-based) and the problem.
 */
export function parseAcl(
  input: string | Uint8Array | SexpList,
  options: ParseAclOptions = {},
): Acl {
  let top: SexpList;
  if (typeof input === "string" || input instanceof Uint8Array) {
    try {
      top = parseSexp(input);
    } catch (e) {
      if (e instanceof SexpError) throw new AclError(e.message);
      throw e;
    }
  } else top = input;
  if (listHead(top) !== "acl") {
    throw new AclError(`expected the list to start with "acl", found ${headOf(top)}`);
  }
  const entries: AclEntry[] = [];
  top.items.slice(1).forEach((item, i) => {
    const where = `entry ${i + 1}`;
    if (item.kind !== "list" || listHead(item) !== "entry") {
      throw new AclError(
        `${where}: expected (entry <public-key> (tag (guix import))), found ${headOf(item)}`,
      );
    }
    if (item.items.length !== 3) {
      throw new AclError(
        `${where}: expected 2 elements after "entry" (key and tag), found ${item.items.length - 1}`,
      );
    }
    const key = item.items[1]!;
    const tag = item.items[2]!;
    if (key.kind !== "list" || listHead(key) !== "public-key") {
      throw new AclError(`${where}: expected a (public-key ...) list, found ${headOf(key)}`);
    }
    if (!isGuixImportTag(tag)) {
      throw new AclError(`${where}: expected (tag (guix import)), found ${headOf(tag)}`);
    }
    entries.push(makeEntry(key, options.precompute ?? true));
  });
  return new Acl(entries);
}

function isGuixImportTag(tag: Sexp): boolean {
  if (tag.kind !== "list" || tag.items.length !== 2 || !atomIs(tag.items[0], "tag")) return false;
  const inner = tag.items[1]!;
  return inner.kind === "list" && inner.items.length === 2 && atomIs(inner.items[0], "guix") &&
    atomIs(inner.items[1], "import");
}

function headOf(node: Sexp): string {
  const text = printAdvanced(node.kind === "list" ? node : list(node)).replace(/\s+/g, " ").replace(
    / \)/g,
    ")",
  ).trim();
  return text.length > 70 ? text.slice(0, 67) + "..." : text;
}

/**
 * An ACL authorizing `keys`, in order (window tables built unless
 * `options.precompute` is false).
 *
 * @example
 * ```ts
 * import { aclFromKeys } from "./acl.ts";
 * aclFromKeys([]).entries.length; // 0
 * ```
 */
export function aclFromKeys(
  keys: readonly (GuixPublicKey | SexpList)[],
  options: ParseAclOptions = {},
): Acl {
  return new Acl(
    keys.map((k) => makeEntry(k instanceof GuixPublicKey ? k.sexp : k, options.precompute ?? true)),
  );
}

/**
 * The ACL file text, byte-identical to what Guix's `write-acl` produces.
 *
 * @example
 * ```ts
 * import { aclFromKeys, formatAcl } from "./acl.ts";
 * formatAcl(aclFromKeys([])); // "(acl)\n"
 * ```
 */
export function formatAcl(acl: Acl): string {
  return printAdvanced(acl.toSexp());
}
