/**
 * Parser for libgcrypt s-expressions, as `gcry_sexp_new(..., autodetect=1)`
 * reads them: the canonical form (`3:abc`) and the advanced form (tokens,
 * `"quoted strings"`, `#hex#` with inner whitespace, `|base64|`), mixed freely,
 * with whitespace between elements. Display hints (`[...]`) are rejected. The
 * input must be exactly one list, optionally surrounded by whitespace.
 *
 * @example
 * ```ts
 * import { parseSexp } from "./parse.ts";
 * const key = parseSexp("(public-key (ecc (curve Ed25519) (q #0102#)))");
 * key.items.length; // 2
 * ```
 * @module
 */
import { SexpError } from "./errors.ts";
import type { Sexp, SexpList } from "./sexp.ts";

/** Default bound on list nesting. */
export const DEFAULT_MAX_SEXP_DEPTH = 64;
/** Default bound on the input size in bytes. */
export const DEFAULT_MAX_SEXP_BYTES = 1 << 20;

/** Options of {@linkcode parseSexp}. */
export interface ParseSexpOptions {
  /** Maximum list nesting depth (default {@linkcode DEFAULT_MAX_SEXP_DEPTH}). */
  maxDepth?: number;
  /** Maximum input size in bytes (default {@linkcode DEFAULT_MAX_SEXP_BYTES}). */
  maxBytes?: number;
}

const encoder = new TextEncoder();

// Character classes (libgcrypt src/sexp.c).
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
const TOKEN_SPECIALS = new Set([..."-./_:*+="].map((c) => c.charCodeAt(0)));

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isTokenChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || TOKEN_SPECIALS.has(c);
}
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function describeByte(c: number | undefined): string {
  if (c === undefined) return "end of input";
  if (c >= 0x21 && c <= 0x7e) return `"${String.fromCharCode(c)}"`;
  return `byte 0x${c.toString(16).padStart(2, "0")}`;
}

/**
 * Parses one s-expression list.
 *
 * @throws {SexpError} naming the byte offset, what was expected and what was found.
 */
export function parseSexp(input: Uint8Array | string, options: ParseSexpOptions = {}): SexpList {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_SEXP_DEPTH;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SEXP_BYTES;
  if (bytes.length > maxBytes) {
    throw new SexpError(
      `input of ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
      maxBytes,
    );
  }
  const stack: Sexp[][] = [];
  let result: SexpList | undefined;
  let pos = 0;
  const n = bytes.length;

  const push = (node: Sexp, start: number) => {
    const top = stack[stack.length - 1];
    if (!top) throw new SexpError(`expected "(" to start a list, found an atom`, start);
    top.push(node);
  };

  while (pos < n) {
    const c = bytes[pos]!;
    if (WHITESPACE.has(c)) {
      pos++;
      continue;
    }
    if (result !== undefined) {
      throw new SexpError(`expected end of input after the list, found ${describeByte(c)}`, pos);
    }
    if (c === 0x28 /* ( */) {
      if (stack.length >= maxDepth) {
        throw new SexpError(`lists nested deeper than ${maxDepth}`, pos);
      }
      stack.push([]);
      pos++;
    } else if (c === 0x29 /* ) */) {
      const items = stack.pop();
      if (!items) throw new SexpError(`unmatched ")"`, pos);
      const node: SexpList = { kind: "list", items };
      if (stack.length === 0) result = node;
      else stack[stack.length - 1]!.push(node);
      pos++;
    } else if (c === 0x22 /* " */) {
      const [value, end] = readQuoted(bytes, pos);
      push({ kind: "atom", bytes: value }, pos);
      pos = end;
    } else if (c === 0x23 /* # */) {
      const [value, end] = readHex(bytes, pos);
      push({ kind: "atom", bytes: value }, pos);
      pos = end;
    } else if (c === 0x7c /* | */) {
      const [value, end] = readBase64(bytes, pos);
      push({ kind: "atom", bytes: value }, pos);
      pos = end;
    } else if (isDigit(c)) {
      const [value, end] = readCanonical(bytes, pos);
      push({ kind: "atom", bytes: value }, pos);
      pos = end;
    } else if (isTokenChar(c)) {
      let end = pos + 1;
      while (end < n && isTokenChar(bytes[end]!)) end++;
      push({ kind: "atom", bytes: bytes.slice(pos, end) }, pos);
      pos = end;
    } else if (c === 0x5b /* [ */) {
      throw new SexpError(`display hints ("[...]") are not supported`, pos);
    } else {
      throw new SexpError(
        `expected "(", ")", an atom or whitespace, found ${describeByte(c)}`,
        pos,
      );
    }
  }
  if (stack.length > 0) {
    throw new SexpError(
      `expected ")" to close ${stack.length} open list(s), found end of input`,
      n,
    );
  }
  if (result === undefined) throw new SexpError(`expected "(", found end of input`, n);
  return result;
}

function readCanonical(bytes: Uint8Array, start: number): [Uint8Array, number] {
  let pos = start;
  while (pos < bytes.length && isDigit(bytes[pos]!)) pos++;
  const digits = new TextDecoder().decode(bytes.subarray(start, pos));
  if (bytes[pos] !== 0x3a /* : */) {
    throw new SexpError(
      `expected ":" after the length ${digits} (tokens cannot start with a digit), found ${
        describeByte(bytes[pos])
      }`,
      pos,
    );
  }
  if (digits.length > 1 && digits.startsWith("0")) {
    throw new SexpError(`length prefix with a leading zero: "${digits}"`, start);
  }
  const length = Number(digits);
  if (length === 0) throw new SexpError(`zero length prefix "0:"`, start);
  const begin = pos + 1;
  if (!Number.isSafeInteger(length) || begin + length > bytes.length) {
    throw new SexpError(
      `length prefix ${digits} runs past the end of input (${bytes.length - begin} bytes left)`,
      start,
    );
  }
  return [bytes.slice(begin, begin + length), begin + length];
}

function readHex(bytes: Uint8Array, start: number): [Uint8Array, number] {
  const out: number[] = [];
  let high = -1;
  let pos = start + 1;
  for (; pos < bytes.length; pos++) {
    const c = bytes[pos]!;
    if (c === 0x23 /* # */) {
      if (high >= 0) {
        throw new SexpError(`odd number of hex digits in "#...#" starting at byte ${start}`, pos);
      }
      return [Uint8Array.from(out), pos + 1];
    }
    if (WHITESPACE.has(c)) continue;
    const v = hexValue(c);
    if (v < 0) throw new SexpError(`expected a hex digit or "#", found ${describeByte(c)}`, pos);
    if (high < 0) high = v;
    else {
      out.push((high << 4) | v);
      high = -1;
    }
  }
  throw new SexpError(`unterminated "#...#" hex string starting at byte ${start}`, pos);
}

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  B64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;
}

function readBase64(bytes: Uint8Array, start: number): [Uint8Array, number] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  let count = 0;
  let padding = 0;
  let pos = start + 1;
  for (; pos < bytes.length; pos++) {
    const c = bytes[pos]!;
    if (c === 0x7c /* | */) {
      if (count % 4 === 1 || (padding > 0 && (count + padding) % 4 !== 0)) {
        throw new SexpError(`truncated base64 in "|...|" starting at byte ${start}`, pos);
      }
      return [Uint8Array.from(out), pos + 1];
    }
    if (c === 0x3d /* = */ && count > 0 && padding < 2) {
      padding++;
      continue;
    }
    const v = B64[c]!;
    if (v < 0 || padding > 0) {
      throw new SexpError(`expected a base64 character or "|", found ${describeByte(c)}`, pos);
    }
    acc = (acc << 6) | v;
    bits += 6;
    count++;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  throw new SexpError(`unterminated "|...|" base64 string starting at byte ${start}`, pos);
}

const SIMPLE_ESCAPES: Record<number, number> = {
  0x62: 0x08, // \b
  0x74: 0x09, // \t
  0x76: 0x0b, // \v
  0x6e: 0x0a, // \n
  0x66: 0x0c, // \f
  0x72: 0x0d, // \r
  0x22: 0x22, // \"
  0x27: 0x27, // \'
  0x5c: 0x5c, // \\
};

function readQuoted(bytes: Uint8Array, start: number): [Uint8Array, number] {
  const out: number[] = [];
  let pos = start + 1;
  while (pos < bytes.length) {
    const c = bytes[pos]!;
    if (c === 0x22 /* " */) return [Uint8Array.from(out), pos + 1];
    if (c !== 0x5c /* \ */) {
      out.push(c);
      pos++;
      continue;
    }
    const e = bytes[pos + 1];
    if (e === undefined) break;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out.push(simple);
      pos += 2;
    } else if (e >= 0x30 && e <= 0x37) {
      const d1 = bytes[pos + 2];
      const d2 = bytes[pos + 3];
      if (
        d1 === undefined || d2 === undefined || d1 < 0x30 || d1 > 0x37 || d2 < 0x30 || d2 > 0x37
      ) {
        throw new SexpError(`expected three octal digits after "\\"`, pos);
      }
      const v = (e - 0x30) * 64 + (d1 - 0x30) * 8 + (d2 - 0x30);
      if (v > 0xff) {
        throw new SexpError(`octal escape \\${String.fromCharCode(e, d1, d2)} > 255`, pos);
      }
      out.push(v);
      pos += 4;
    } else if (e === 0x78 /* x */) {
      const h1 = hexValue(bytes[pos + 2] ?? -1);
      const h2 = hexValue(bytes[pos + 3] ?? -1);
      if (h1 < 0 || h2 < 0) throw new SexpError(`expected two hex digits after "\\x"`, pos);
      out.push((h1 << 4) | h2);
      pos += 4;
    } else if (e === 0x0d || e === 0x0a) {
      // A backslash before CR[LF] or LF[CR] continues the string on the next line.
      const other = e === 0x0d ? 0x0a : 0x0d;
      pos += bytes[pos + 2] === other ? 3 : 2;
    } else {
      throw new SexpError(`unknown escape "\\" followed by ${describeByte(e)} in a string`, pos);
    }
  }
  throw new SexpError(`unterminated quoted string starting at byte ${start}`, bytes.length);
}
