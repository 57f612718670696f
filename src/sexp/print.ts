/**
 * Printers for s-expressions: the canonical form and the "advanced" transport
 * form exactly as libgcrypt's `gcry_sexp_sprint(GCRYSEXP_FMT_ADVANCED)` writes
 * it (Guix's key files, ACL and narinfo signatures). Atom encodings follow
 * libgcrypt's `suitable_encoding`: empty → `""`; binary-looking → `#HEX#`;
 * token characters not starting with a digit → the bare token; otherwise a
 * quoted string.
 *
 * @example
 * ```ts
 * import { parseSexp } from "./parse.ts";
 * import { printAdvanced, printCanonical } from "./print.ts";
 * const s = parseSexp("(a (b c))");
 * printAdvanced(s); // "(a \n (b c)\n )\n"
 * printCanonical(s); // bytes of "(1:a(1:b1:c))"
 * ```
 * @module
 */
import type { Sexp } from "./sexp.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

// Token characters of the printer: libgcrypt also counts NUL, through its
// `strchr (TOKEN_SPECIALS, *s)` test, which matches the string terminator.
function isPrintTokenChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
    "-./_:*+=".includes(String.fromCharCode(c)) || c === 0;
}

// Control bytes that a quoted string can carry as an escape (plus NUL, for the same reason).
const ESCAPABLE = new Set([0x08, 0x09, 0x0b, 0x0a, 0x0c, 0x0d, 0x22, 0x27, 0x5c, 0x00]);

function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0xa0);
}

/** How the advanced printer writes an atom: libgcrypt's `suitable_encoding`. */
export type AtomEncoding = "hex" | "token" | "quoted";

/**
 * Chooses the encoding libgcrypt's advanced printer uses for an atom.
 *
 * @example
 * ```ts
 * import { atomEncoding } from "./print.ts";
 * atomEncoding(new TextEncoder().encode("Ed25519")); // "token"
 * atomEncoding(new Uint8Array([0x80, 1])); // "hex"
 * ```
 */
export function atomEncoding(bytes: Uint8Array): AtomEncoding {
  if (bytes.length === 0) return "quoted";
  const first = bytes[0]!;
  if (first & 0x80 || first === 0) return "hex";
  let maybeToken = true;
  for (const c of bytes) {
    if (isControl(c) && !ESCAPABLE.has(c)) return "hex";
    if (maybeToken && !isPrintTokenChar(c)) maybeToken = false;
  }
  return maybeToken && !(first >= 0x30 && first <= 0x39) ? "token" : "quoted";
}

const HEX = "0123456789ABCDEF";

function encodeAtom(bytes: Uint8Array): string {
  switch (atomEncoding(bytes)) {
    case "hex": {
      let out = "#";
      for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
      return out + "#";
    }
    case "token":
      return latin1.decode(bytes);
    case "quoted": {
      let out = '"';
      for (const c of bytes) {
        switch (c) {
          case 0x08:
            out += "\\b";
            break;
          case 0x09:
            out += "\\t";
            break;
          case 0x0b:
            out += "\\v";
            break;
          case 0x0a:
            out += "\\n";
            break;
          case 0x0c:
            out += "\\f";
            break;
          case 0x0d:
            out += "\\r";
            break;
          case 0x22:
            out += '\\"';
            break;
          case 0x27:
            out += "\\'";
            break;
          case 0x5c:
            out += "\\\\";
            break;
          default:
            out += isControl(c) ? `\\x${c.toString(16).padStart(2, "0")}` : String.fromCharCode(c);
        }
      }
      return out + '"';
    }
  }
}

type Event = { kind: "open" } | { kind: "close" } | { kind: "atom"; bytes: Uint8Array };

function* events(node: Sexp): Generator<Event> {
  if (node.kind === "atom") {
    yield node;
    return;
  }
  yield { kind: "open" };
  for (const item of node.items) yield* events(item);
  yield { kind: "close" };
}

/**
 * Prints `node` in libgcrypt's advanced format, byte for byte as
 * `gcry_sexp_sprint(GCRYSEXP_FMT_ADVANCED)`, and returns the text with one
 * character per byte (binary-safe: encode with Latin-1 to get the bytes; for
 * the usual ASCII output this is plain text).
 *
 * @example
 * ```ts
 * import { list } from "./sexp.ts";
 * import { printAdvanced } from "./print.ts";
 * printAdvanced(list("public-key", list("ecc", list("curve", "Ed25519"))));
 * // "(public-key \n (ecc \n  (curve Ed25519)\n  )\n )\n"
 * ```
 */
export function printAdvanced(node: Sexp): string {
  const parts: string[] = [];
  let indent = 0;
  const all = [...events(node)];
  for (let i = 0; i < all.length; i++) {
    const ev = all[i]!;
    const next = all[i + 1];
    if (ev.kind === "open") {
      if (indent > 0) parts.push("\n" + " ".repeat(indent));
      parts.push("(");
      indent++;
    } else if (ev.kind === "close") {
      parts.push(")");
      indent--;
      if (next !== undefined && next.kind !== "open") parts.push("\n" + " ".repeat(indent));
    } else {
      parts.push(encodeAtom(ev.bytes));
      if (next !== undefined && next.kind !== "close") parts.push(" ");
    }
  }
  parts.push("\n");
  return parts.join("");
}

/**
 * {@linkcode printAdvanced} as bytes (each character of the text is one byte).
 *
 * @example
 * ```ts
 * import { list } from "./sexp.ts";
 * import { printAdvancedBytes } from "./print.ts";
 * printAdvancedBytes(list("a")).length; // 4: "(a)\n"
 * ```
 */
export function printAdvancedBytes(node: Sexp): Uint8Array {
  const text = printAdvanced(node);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Prints `node` in canonical form: `(`, `<length>:<bytes>` per atom, `)`, no spaces.
 *
 * @example
 * ```ts
 * import { list } from "./sexp.ts";
 * import { printCanonical } from "./print.ts";
 * new TextDecoder().decode(printCanonical(list("hash", "sha256"))); // "(4:hash6:sha256)"
 * ```
 */
export function printCanonical(node: Sexp): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const add = (b: Uint8Array) => {
    chunks.push(b);
    size += b.length;
  };
  const open = encoder.encode("(");
  const close = encoder.encode(")");
  for (const ev of events(node)) {
    if (ev.kind === "open") add(open);
    else if (ev.kind === "close") add(close);
    else {
      add(encoder.encode(`${ev.bytes.length}:`));
      add(ev.bytes);
    }
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
