/**
 * Strict streaming NAR parser. It turns NAR bytes into a sequence of events
 * and rejects anything that is not the canonical encoding of a tree
 * (guix-substitute-protocol.md §5.2, §6.2) with a {@linkcode NarFormatError}
 * naming the byte offset, the path inside the archive and the offending value.
 *
 * The contents of a regular file arrive as a stream of subarrays of the input
 * chunks (no copy). Consume them before asking for the next event; contents
 * left unread are skipped (and still checked).
 *
 * @example
 * ```ts
 * import { parseNar } from "./parser.ts";
 * declare const nar: ReadableStream<Uint8Array>;
 * for await (const event of parseNar(nar)) {
 *   if (event.kind === "regular") {
 *     for await (const chunk of event.contents) console.log(event.path, chunk.length);
 *   } else {
 *     console.log(event.kind, event.path);
 *   }
 * }
 * ```
 * @module
 */
import {
  compareBytes,
  DEFAULT_MAX_DEPTH,
  entryNameProblem,
  joinNarPath,
  MAX_NAME_BYTES,
  MAX_TARGET_BYTES,
  NAR_MAGIC,
  padLength,
  showBytes,
  TOKENS,
} from "./_format.ts";
import { ByteReader, type ChunkInput } from "./_reader.ts";
import { NarFormatError } from "./errors.ts";

export type { ChunkInput } from "./_reader.ts";

/** One step of a NAR. Paths are relative, `/`-separated; `""` is the root. */
export type NarEvent =
  | { kind: "directory"; path: string }
  | { kind: "directory-end"; path: string }
  | { kind: "symlink"; path: string; target: string }
  | {
    kind: "regular";
    path: string;
    executable: boolean;
    size: number;
    /** The file's bytes; consume before the next event. */
    contents: AsyncIterable<Uint8Array>;
  };

/** Options of {@linkcode parseNar}. */
export interface ParseNarOptions {
  /** Stops parsing (and cancels the input) with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Deepest allowed nesting of entries below the root. Default 256. */
  maxDepth?: number | undefined;
  /** The expected NarSize: more input than this, or a file that cannot fit, is rejected. */
  maxSize?: number | undefined;
  /** Sees every input chunk in order (e.g. to hash the NAR while parsing). */
  onChunk?: ((chunk: Uint8Array) => void) | undefined;
}

/** The longest keyword token (`nix-archive-1`). */
const MAX_TOKEN = 13;
/**
 * Lookahead that covers one node header: `(` `type` <type> [`executable` ""]
 * `contents` <size>, with every token at its longest (13 bytes).
 */
const NODE_HEAD = 128;
/** Lookahead for `entry` `(` `name` <name ≤ 255> `node` plus the node header. */
const ENTRY_HEAD = 16 + 16 + 16 + 8 + 256 + 16 + NODE_HEAD;
const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses `input` strictly; see the module documentation.
 * @throws {NarFormatError} on any deviation from the canonical format.
 *
 * @example
 * ```ts
 * import { parseNar } from "./parser.ts";
 * declare const nar: ReadableStream<Uint8Array>;
 * for await (const e of parseNar(nar, { maxSize: 1 << 20 })) console.log(e.kind, e.path);
 * ```
 */
export async function* parseNar(
  input: ChunkInput,
  options: ParseNarOptions = {},
): AsyncGenerator<NarEvent, void, undefined> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxSize = options.maxSize ?? Number.MAX_SAFE_INTEGER;
  let path = "";
  const r = new ByteReader(input, {
    signal: options.signal,
    onChunk: options.onChunk,
    maxBytes: options.maxSize,
    tooLarge: (max) =>
      new NarFormatError(`the NAR is longer than the expected size of ${max} bytes`, {
        offset: max,
        path,
      }),
  });
  const fail = (detail: string, offset = r.offset) => new NarFormatError(detail, { offset, path });
  /**
   * The decoders below are synchronous: a `fill` with a large enough bound
   * came first, so running short means the input has ended.
   */
  const short = (needed: number, what: string) => {
    if (!r.eof) throw new Error(`NAR parser: lookahead too small for ${what} at ${r.offset}`);
    return fail(`truncated input: ${needed - r.available} more byte(s) needed for ${what}`);
  };
  const u64 = (what: string): number => {
    if (r.available < 8) throw short(8, what);
    const b = r.buf;
    const p = r.pos;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    if (hi > 0x1f_ffff) {
      throw fail(`${what} ${(BigInt(hi) << 32n) | BigInt(lo)} exceeds Number.MAX_SAFE_INTEGER`);
    }
    r.pos = p + 8;
    return hi * 0x1_0000_0000 + lo;
  };
  const checkPadding = (len: number, what: string) => {
    const pad = padLength(len);
    if (r.available < pad) throw short(pad, `the padding of ${what}`);
    const b = r.buf;
    const at = r.pos;
    for (let i = 0; i < pad; i++) {
      if (b[at + i] !== 0) {
        throw fail(
          `non-zero padding byte 0x${b[at + i]!.toString(16)} after ${what}`,
          r.offset + i,
        );
      }
    }
    r.pos += pad;
  };
  /** The length of a string of at most `limit` bytes. */
  const strLength = (limit: number, what: string): number => {
    const at = r.offset;
    const len = u64(`the length of ${what}`);
    if (len > limit) throw fail(`${what} is ${len} bytes long, the limit is ${limit}`, at);
    return len;
  };
  /** The payload of a string of length `len` (must be available), without padding. */
  const strBody = (len: number, what: string): Uint8Array => {
    if (r.available < len + padLength(len)) throw short(len + padLength(len), what);
    const bytes = r.buf.subarray(r.pos, r.pos + len);
    r.pos += len;
    checkPadding(len, what);
    return bytes;
  };
  /** A keyword token (`what` describes the expected ones), as text. */
  const token = (what: string): string => {
    const at = r.offset;
    const len = u64(`the length of ${what}`);
    if (len > MAX_TOKEN) throw fail(`expected ${what}, got a string of ${len} bytes`, at);
    const bytes = strBody(len, what);
    let text = "";
    for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
    return text;
  };
  /** Consumes the encoded token `enc` if it comes next (the fast path, no strings). */
  const matches = (enc: Uint8Array): boolean => {
    const b = r.buf;
    const p = r.pos;
    const n = enc.length;
    if (b.length - p < n) return false;
    for (let i = 0; i < n; i++) if (b[p + i] !== enc[i]) return false;
    r.pos = p + n;
    return true;
  };
  const expect = (enc: Uint8Array, expected: string) => {
    if (matches(enc)) return;
    const at = r.offset;
    const got = token(`token ${JSON.stringify(expected)}`);
    throw fail(`expected token ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`, at);
  };
  const unexpected = (got: string, allowed: string, at: number) =>
    fail(`unknown token ${JSON.stringify(got)} (expected ${allowed})`, at);
  const utf8 = (bytes: Uint8Array, what: string, at: number): string => {
    try {
      return strict.decode(bytes);
    } catch {
      throw fail(
        `${what} is not valid UTF-8: ${showBytes(bytes)} (Nix and Guix accept any bytes here, ` +
          `but guix-p2p runs on Deno, whose file names are strings: such a NAR cannot be ` +
          `restored faithfully, so it is refused; see docs/security.md)`,
        at,
      );
    }
  };

  // Open directories, innermost last, with the previous entry name of each.
  const dirs: { path: string; last: Uint8Array | undefined }[] = [];
  try {
    await r.fill(24 + NODE_HEAD);
    expect(TOKENS.magic, NAR_MAGIC);
    for (;;) {
      // One node at `path`; its header is in the lookahead.
      if (r.available < NODE_HEAD) await r.fill(NODE_HEAD);
      expect(TOKENS.open, "(");
      expect(TOKENS.type, "type");
      let at = r.offset;
      const kind = matches(TOKENS.regular)
        ? "regular"
        : matches(TOKENS.directory)
        ? "directory"
        : matches(TOKENS.symlink)
        ? "symlink"
        : token("the node type");
      if (kind === "regular") {
        let executable = false;
        if (!matches(TOKENS.contents)) {
          at = r.offset;
          const next = token('token "executable" or "contents"');
          if (next !== "executable") throw unexpected(next, '"contents"', at);
          executable = true;
          const markAt = r.offset;
          const mark = strBody(
            strLength(MAX_TOKEN, 'the "executable" marker'),
            'the "executable" marker',
          );
          if (mark.length !== 0) {
            throw fail(`the "executable" marker must be "", got ${showBytes(mark)}`, markAt);
          }
          at = r.offset;
          if (!matches(TOKENS.contents)) {
            throw unexpected(token('token "contents"'), '"contents"', at);
          }
        }
        const sizeAt = r.offset;
        const size = u64("the file size");
        // The contents, their padding and the closing ")" token must fit.
        if (size > maxSize - r.offset - padLength(size) - 16) {
          throw fail(
            `file size ${size} does not fit in the expected NAR size of ${maxSize} bytes`,
            sizeAt,
          );
        }
        let left = size;
        let current = true;
        const filePath = path;
        const contents = {
          async *[Symbol.asyncIterator]() {
            while (left > 0) {
              if (!current) {
                throw new Error(
                  `NAR contents of ${JSON.stringify(filePath)} read after the parser moved on`,
                );
              }
              const chunk = await r.some(left);
              if (chunk.length === 0) {
                throw short(left, `the contents of ${JSON.stringify(filePath)}`);
              }
              left -= chunk.length;
              yield chunk;
            }
          },
        };
        yield { kind: "regular", path, executable, size, contents };
        current = false;
        while (left > 0) {
          const chunk = await r.some(left);
          if (chunk.length === 0) throw short(left, `the contents of ${JSON.stringify(filePath)}`);
          left -= chunk.length;
        }
        if (r.available < 24) await r.fill(24);
        checkPadding(size, "the file contents");
        expect(TOKENS.close, ")");
      } else if (kind === "symlink") {
        expect(TOKENS.target, "target");
        const targetAt = r.offset;
        const len = strLength(MAX_TARGET_BYTES, "the symlink target");
        if (r.available < len + 8 + 16) await r.fill(len + 8 + 16);
        const raw = strBody(len, "the symlink target");
        if (raw.length === 0) throw fail("the symlink target is empty", targetAt);
        if (raw.includes(0)) {
          throw fail(`the symlink target contains a NUL byte: ${showBytes(raw)}`, targetAt);
        }
        const target = utf8(raw, "the symlink target", targetAt);
        expect(TOKENS.close, ")");
        yield { kind: "symlink", path, target };
      } else if (kind === "directory") {
        yield { kind: "directory", path };
        dirs.push({ path, last: undefined });
      } else {
        throw unexpected(kind, '"regular", "symlink" or "directory"', at);
      }

      // Close finished entries and directories until the next entry starts.
      let descended = false;
      while (dirs.length > 0) {
        const dir = dirs[dirs.length - 1]!;
        if (r.available < ENTRY_HEAD + 16) await r.fill(ENTRY_HEAD + 16);
        if (dir.path !== path) {
          // `path` was an entry of `dir` and its node is complete: close the entry.
          path = dir.path;
          expect(TOKENS.close, ")");
        }
        if (matches(TOKENS.close)) {
          dirs.pop();
          yield { kind: "directory-end", path };
          continue;
        }
        if (!matches(TOKENS.entryHead)) {
          const tokAt = r.offset;
          const next = token('token "entry" or ")"');
          if (next !== "entry") throw unexpected(next, '"entry" or ")"', tokAt);
          expect(TOKENS.open, "(");
          expect(TOKENS.name, "name");
        }
        const nameAt = r.offset;
        const name = strBody(strLength(MAX_NAME_BYTES, "the entry name"), "the entry name");
        const problem = entryNameProblem(name);
        if (problem) throw fail(`${problem}: ${showBytes(name)}`, nameAt);
        if (dir.last && compareBytes(dir.last, name) >= 0) {
          throw fail(
            `entry ${showBytes(name)} is not strictly after the previous entry ${
              showBytes(dir.last)
            } (entries must be unique and sorted by bytes)`,
            nameAt,
          );
        }
        dir.last = name.slice();
        const childPath = joinNarPath(dir.path, utf8(name, "the entry name", nameAt));
        if (dirs.length > maxDepth) {
          path = childPath;
          throw fail(`nesting deeper than ${maxDepth} levels`, nameAt);
        }
        expect(TOKENS.node, "node");
        path = childPath;
        descended = true;
        break;
      }
      if (!descended) break;
    }
    if (!(await r.atEnd())) {
      path = "";
      throw fail("trailing data after the end of the archive");
    }
  } finally {
    r.release();
  }
}
