/**
 * The s-expression value type and helpers to build, compare and search trees.
 * Atoms are byte strings; a token like `ecc` and the string `"ecc"` are the
 * same atom.
 *
 * @example
 * ```ts
 * import { atomText, findToken, list } from "./sexp.ts";
 * const key = list("public-key", list("ecc", list("curve", "Ed25519")));
 * const curve = findToken(key, "curve");
 * atomText(curve!.items[1]!); // "Ed25519"
 * ```
 * @module
 */

/** An atom: a byte string. */
export interface SexpAtom {
  /** Discriminant. */
  readonly kind: "atom";
  /** The atom's bytes. */
  readonly bytes: Uint8Array;
}

/** A list of atoms and lists. */
export interface SexpList {
  /** Discriminant. */
  readonly kind: "list";
  /** The elements, in order. */
  readonly items: readonly Sexp[];
}

/** An s-expression node. */
export type Sexp = SexpAtom | SexpList;

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/**
 * Makes an atom from bytes or from a string (encoded as UTF-8).
 *
 * @example
 * ```ts
 * import { atom } from "./sexp.ts";
 * atom("sha256").bytes.length; // 6
 * ```
 */
export function atom(value: string | Uint8Array): SexpAtom {
  return { kind: "atom", bytes: typeof value === "string" ? encoder.encode(value) : value };
}

/**
 * Makes a list; string and byte arguments become atoms.
 *
 * @example
 * ```ts
 * import { list } from "./sexp.ts";
 * list("hash", "sha256", new Uint8Array(32)).items.length; // 3
 * ```
 */
export function list(...items: (Sexp | string | Uint8Array)[]): SexpList {
  return {
    kind: "list",
    items: items.map((i) => (typeof i === "string" || i instanceof Uint8Array ? atom(i) : i)),
  };
}

/**
 * The atom's bytes as text, one character per byte (Latin-1), so that every
 * atom maps to a distinct string.
 *
 * @example
 * ```ts
 * import { atom, atomText } from "./sexp.ts";
 * atomText(atom("Ed25519")); // "Ed25519"
 * ```
 */
export function atomText(node: Sexp): string {
  if (node.kind !== "atom") throw new TypeError("atomText: expected an atom, got a list");
  return latin1.decode(node.bytes);
}

/**
 * True when `node` is an atom whose bytes are exactly the UTF-8 bytes of `text`.
 *
 * @example
 * ```ts
 * import { atom, atomIs } from "./sexp.ts";
 * atomIs(atom("ecc"), "ecc"); // true
 * ```
 */
export function atomIs(node: Sexp | undefined, text: string): boolean {
  if (node?.kind !== "atom") return false;
  return bytesEqual(node.bytes, encoder.encode(text));
}

/**
 * The head token of a list (its first element when that is an atom), as text.
 *
 * @example
 * ```ts
 * import { list, listHead } from "./sexp.ts";
 * listHead(list("q", new Uint8Array(32))); // "q"
 * ```
 */
export function listHead(node: Sexp): string | undefined {
  if (node.kind !== "list") return undefined;
  const first = node.items[0];
  return first?.kind === "atom" ? latin1.decode(first.bytes) : undefined;
}

/**
 * The first list, depth-first and including `node` itself, whose head atom is
 * `token` — the search of libgcrypt's `gcry_sexp_find_token`.
 *
 * @example
 * ```ts
 * import { findToken, list } from "./sexp.ts";
 * findToken(list("a", list("b", list("c", "x"))), "c"); // the (c x) list
 * ```
 */
export function findToken(node: Sexp, token: string): SexpList | undefined {
  if (node.kind !== "list") return undefined;
  const want = encoder.encode(token);
  const stack: SexpList[] = [node];
  while (stack.length > 0) {
    const current = stack.pop()!;
    const first = current.items[0];
    if (first?.kind === "atom" && bytesEqual(first.bytes, want)) return current;
    for (let i = current.items.length - 1; i >= 0; i--) {
      const child = current.items[i]!;
      if (child.kind === "list") stack.push(child);
    }
  }
  return undefined;
}

/**
 * Structural equality: same list shape and byte-equal atoms, in the same order.
 * This is Guix's key equality (`equal?` on the Scheme form of two keys).
 *
 * @example
 * ```ts
 * import { list, sexpEquals } from "./sexp.ts";
 * sexpEquals(list("a", "b"), list("a", "b")); // true
 * ```
 */
export function sexpEquals(a: Sexp, b: Sexp): boolean {
  if (a.kind === "atom") return b.kind === "atom" && bytesEqual(a.bytes, b.bytes);
  if (b.kind !== "list" || a.items.length !== b.items.length) return false;
  for (let i = 0; i < a.items.length; i++) {
    if (!sexpEquals(a.items[i]!, b.items[i]!)) return false;
  }
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
