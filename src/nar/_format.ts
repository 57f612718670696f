/**
 * NAR wire primitives shared by the writer, the parser and the layout index:
 * `u64le` integers, padded strings, the literal tokens and the limits we
 * enforce (../shared/docs/guix-substitute-protocol.md §5.1–§5.2, §6.2).
 *
 * @example
 * ```ts
 * import { encodeNarString, TOKENS } from "./_format.ts";
 * encodeNarString(new TextEncoder().encode("hi")).length; // 16
 * TOKENS.magic.length; // 24
 * ```
 * @module
 */
import { concatBytes } from "../encoding/bytes.ts";

/** The magic string every NAR starts with. */
export const NAR_MAGIC = "nix-archive-1";
/** Longest entry name accepted (`NAME_MAX`). */
export const MAX_NAME_BYTES = 255;
/** Longest symlink target accepted (`PATH_MAX - 1`). */
export const MAX_TARGET_BYTES = 4095;
/** Default limit on directory nesting. */
export const DEFAULT_MAX_DEPTH = 256;

const encoder = new TextEncoder();

/** Number of zero bytes that follow `length` bytes of string data. */
export function padLength(length: number): number {
  return (8 - (length % 8)) % 8;
}

/** Writes `value` (0 ≤ value ≤ 2^53−1) as 8 little-endian bytes at `offset`. */
export function writeU64(buf: Uint8Array, offset: number, value: number): void {
  const lo = value % 0x1_0000_0000;
  const hi = (value - lo) / 0x1_0000_0000;
  buf[offset] = lo & 0xff;
  buf[offset + 1] = (lo >>> 8) & 0xff;
  buf[offset + 2] = (lo >>> 16) & 0xff;
  buf[offset + 3] = lo >>> 24;
  buf[offset + 4] = hi & 0xff;
  buf[offset + 5] = (hi >>> 8) & 0xff;
  buf[offset + 6] = (hi >>> 16) & 0xff;
  buf[offset + 7] = hi >>> 24;
}

/** `u64le(len) ‖ bytes ‖ zero padding`. */
export function encodeNarString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + bytes.length + padLength(bytes.length));
  writeU64(out, 0, bytes.length);
  out.set(bytes, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

const tok = (s: string) => encodeNarString(encoder.encode(s));

/** Encoded literal tokens and the fixed token sequences the writer emits. */
export const TOKENS = (() => {
  const t = {
    magic: tok(NAR_MAGIC),
    open: tok("("),
    close: tok(")"),
    type: tok("type"),
    regular: tok("regular"),
    executable: tok("executable"),
    empty: tok(""),
    contents: tok("contents"),
    symlink: tok("symlink"),
    target: tok("target"),
    directory: tok("directory"),
    entry: tok("entry"),
    name: tok("name"),
    node: tok("node"),
  };
  return {
    ...t,
    /** `( type regular contents` (the size follows). */
    regularHead: concat(t.open, t.type, t.regular, t.contents),
    /** `( type regular executable "" contents` (the size follows). */
    executableHead: concat(t.open, t.type, t.regular, t.executable, t.empty, t.contents),
    /** `( type symlink target` (the target string follows, then `)`). */
    symlinkHead: concat(t.open, t.type, t.symlink, t.target),
    /** `( type directory` (entries follow, then `)`). */
    directoryHead: concat(t.open, t.type, t.directory),
    /** `entry ( name` (the name string follows, then `node`). */
    entryHead: concat(t.entry, t.open, t.name),
  };
})();

/** Lexicographic comparison of byte strings (the NAR entry order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Why `name` (raw bytes) is not an acceptable entry name, or `undefined` when
 * it is: empty, `.`, `..`, containing `/` or NUL, longer than 255 bytes.
 */
export function entryNameProblem(name: Uint8Array): string | undefined {
  if (name.length === 0) return "entry name is empty";
  if (name.length > MAX_NAME_BYTES) {
    return `entry name is ${name.length} bytes long, the limit is ${MAX_NAME_BYTES}`;
  }
  if (name[0] === 0x2e && (name.length === 1 || (name.length === 2 && name[1] === 0x2e))) {
    return `entry name ${name.length === 1 ? '"."' : '".."'} is not allowed`;
  }
  if (name.includes(0x2f)) return 'entry name contains "/"';
  if (name.includes(0)) return "entry name contains a NUL byte";
  return undefined;
}

/** Shows untrusted bytes in an error message: JSON-quoted, lossy UTF-8, clipped. */
export function showBytes(bytes: Uint8Array, limit = 64): string {
  const text = new TextDecoder().decode(bytes.subarray(0, limit));
  return JSON.stringify(text) + (bytes.length > limit ? `... (${bytes.length} bytes)` : "");
}

/** Joins an archive path and an entry name (`""` is the root). */
export function joinNarPath(parent: string, name: string): string {
  return parent === "" ? name : `${parent}/${name}`;
}
