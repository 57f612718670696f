/**
 * The token decoders of the NAR parser over its {@linkcode ByteReader}: u64
 * lengths, padded strings, keyword tokens, and errors that name the offset and
 * the path being parsed. They are synchronous: the parser `fill`s the
 * lookahead with a large enough bound first, so running short means the input
 * has ended.
 *
 * @example
 * ```ts
 * import { NarDecoder } from "./_decoder.ts";
 * import { ByteReader } from "./_reader.ts";
 * import { TOKENS } from "./_format.ts";
 * const d = new NarDecoder(new ByteReader([new Uint8Array(16)]));
 * await d.r.fill(16);
 * d.matches(TOKENS.open); // false
 * ```
 * @module
 */
import { padLength, showBytes } from "./_format.ts";
import type { ByteReader } from "./_reader.ts";
import { NarFormatError } from "./errors.ts";

/** The longest keyword token (`nix-archive-1`). */
export const MAX_TOKEN = 13;
const strict = new TextDecoder("utf-8", { fatal: true });

/** Decodes tokens at the reader's position; `path` is named in errors. */
export class NarDecoder {
  /** The input. */
  readonly r: ByteReader;
  /** The path of the node being parsed. */
  path = "";

  /** Decodes from `r`. */
  constructor(r: ByteReader) {
    this.r = r;
  }

  /** An error at `offset` (default: the current one) naming the path. */
  fail(detail: string, offset = this.r.offset): NarFormatError {
    return new NarFormatError(detail, { offset, path: this.path });
  }

  /** Input ended `needed` bytes short of `what`. */
  short(needed: number, what: string): NarFormatError {
    const r = this.r;
    if (!r.eof) throw new Error(`NAR parser: lookahead too small for ${what} at ${r.offset}`);
    return this.fail(`truncated input: ${needed - r.available} more byte(s) needed for ${what}`);
  }

  /** A little-endian u64 (at most 2^53 - 1). */
  u64(what: string): number {
    const r = this.r;
    if (r.available < 8) throw this.short(8, what);
    const b = r.buf;
    const p = r.pos;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    if (hi > 0x1f_ffff) {
      throw this.fail(
        `${what} ${(BigInt(hi) << 32n) | BigInt(lo)} exceeds Number.MAX_SAFE_INTEGER`,
      );
    }
    r.pos = p + 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** The zero padding after `len` bytes of `what`. */
  checkPadding(len: number, what: string): void {
    const r = this.r;
    const pad = padLength(len);
    if (r.available < pad) throw this.short(pad, `the padding of ${what}`);
    const b = r.buf;
    const at = r.pos;
    for (let i = 0; i < pad; i++) {
      if (b[at + i] !== 0) {
        throw this.fail(
          `non-zero padding byte 0x${b[at + i]!.toString(16)} after ${what}`,
          r.offset + i,
        );
      }
    }
    r.pos += pad;
  }

  /** The length of a string of at most `limit` bytes. */
  strLength(limit: number, what: string): number {
    const at = this.r.offset;
    const len = this.u64(`the length of ${what}`);
    if (len > limit) throw this.fail(`${what} is ${len} bytes long, the limit is ${limit}`, at);
    return len;
  }

  /** The payload of a string of length `len` (must be available), without padding. */
  strBody(len: number, what: string): Uint8Array {
    const r = this.r;
    if (r.available < len + padLength(len)) throw this.short(len + padLength(len), what);
    const bytes = r.buf.subarray(r.pos, r.pos + len);
    r.pos += len;
    this.checkPadding(len, what);
    return bytes;
  }

  /** A keyword token (`what` describes the expected ones), as text. */
  token(what: string): string {
    const at = this.r.offset;
    const len = this.u64(`the length of ${what}`);
    if (len > MAX_TOKEN) throw this.fail(`expected ${what}, got a string of ${len} bytes`, at);
    const bytes = this.strBody(len, what);
    let text = "";
    for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
    return text;
  }

  /** Consumes the encoded token `enc` if it comes next (the fast path, no strings). */
  matches(enc: Uint8Array): boolean {
    const r = this.r;
    const b = r.buf;
    const p = r.pos;
    const n = enc.length;
    if (b.length - p < n) return false;
    for (let i = 0; i < n; i++) if (b[p + i] !== enc[i]) return false;
    r.pos = p + n;
    return true;
  }

  /** Consumes the token `expected` (encoded as `enc`) or fails naming what came. */
  expect(enc: Uint8Array, expected: string): void {
    if (this.matches(enc)) return;
    const at = this.r.offset;
    const got = this.token(`token ${JSON.stringify(expected)}`);
    throw this.fail(`expected token ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`, at);
  }

  /** An unknown token `got` at `at`. */
  unexpected(got: string, allowed: string, at: number): NarFormatError {
    return this.fail(`unknown token ${JSON.stringify(got)} (expected ${allowed})`, at);
  }

  /** `bytes` as strict UTF-8. */
  utf8(bytes: Uint8Array, what: string, at: number): string {
    try {
      return strict.decode(bytes);
    } catch {
      throw this.fail(
        `${what} is not valid UTF-8: ${showBytes(bytes)} (Nix and Guix accept any bytes here, ` +
          `but guix-p2p runs on Deno, whose file names are strings: such a NAR cannot be ` +
          `restored faithfully, so it is refused; see docs/security.md)`,
        at,
      );
    }
  }
}
