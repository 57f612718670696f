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
const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses `input` strictly; see the module documentation.
 * @throws {NarFormatError} on any deviation from the canonical format.
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
  const truncated = (what: string) => (missing: number) =>
    fail(`truncated input: ${missing} more byte(s) needed for ${what}`);

  const u64 = async (what: string): Promise<number> => {
    if (r.available < 8) await r.ensure(8, truncated(what));
    const b = r.buf;
    const p = r.pos;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    if (hi > 0x1f_ffff) {
      throw fail(
        `${what} ${(BigInt(hi) << 32n) | BigInt(lo)} exceeds Number.MAX_SAFE_INTEGER`,
      );
    }
    r.pos = p + 8;
    return hi * 0x1_0000_0000 + lo;
  };
  const checkPadding = (len: number, what: string) => {
    const pad = padLength(len);
    const at = r.pos;
    for (let i = 0; i < pad; i++) {
      if (r.buf[at + i] !== 0) {
        throw fail(
          `non-zero padding byte 0x${r.buf[at + i]!.toString(16)} after ${what}`,
          r.offset + i,
        );
      }
    }
    r.pos += pad;
  };
  /** A string of at most `limit` bytes (payload returned without padding). */
  const str = async (limit: number, what: string): Promise<Uint8Array> => {
    const at = r.offset;
    const len = await u64(`the length of ${what}`);
    if (len > limit) throw fail(`${what} is ${len} bytes long, the limit is ${limit}`, at);
    const total = len + padLength(len);
    if (r.available < total) await r.ensure(total, truncated(what));
    const bytes = r.take(len);
    checkPadding(len, what);
    return bytes;
  };
  /** A keyword token (`what` describes the expected ones); returns it as text. */
  const token = async (what: string): Promise<string> => {
    const at = r.offset;
    const len = await u64(`the length of ${what}`);
    if (len > MAX_TOKEN) throw fail(`expected ${what}, got a string of ${len} bytes`, at);
    const total = len + padLength(len);
    if (r.available < total) await r.ensure(total, truncated(what));
    const bytes = r.take(len);
    checkPadding(len, `token ${showBytes(bytes)}`);
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return text;
  };
  const expect = async (expected: string, at = r.offset) => {
    const got = await token(`token ${JSON.stringify(expected)}`);
    if (got !== expected) {
      throw fail(`expected token ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`, at);
    }
  };
  const unexpected = (got: string, allowed: string, at: number) =>
    fail(`unknown token ${JSON.stringify(got)} (expected ${allowed})`, at);
  const utf8 = (bytes: Uint8Array, what: string, at: number): string => {
    try {
      return strict.decode(bytes);
    } catch {
      throw fail(`${what} is not valid UTF-8: ${showBytes(bytes)}`, at);
    }
  };

  // Entries seen so far, innermost last: the previous name in each open directory.
  const dirs: { path: string; last: Uint8Array | undefined }[] = [];
  try {
    await expect(NAR_MAGIC);
    for (;;) {
      // Parse one node at `path` (depth = dirs.length).
      let at = r.offset;
      await expect("(", at);
      await expect("type");
      at = r.offset;
      const type = await token("the node type");
      if (type === "regular") {
        at = r.offset;
        let next = await token('token "executable" or "contents"');
        let executable = false;
        if (next === "executable") {
          executable = true;
          const markAt = r.offset;
          const mark = await str(MAX_TOKEN, 'the "executable" marker');
          if (mark.length !== 0) {
            throw fail(`the "executable" marker must be "", got ${showBytes(mark)}`, markAt);
          }
          at = r.offset;
          next = await token('token "contents"');
        }
        if (next !== "contents") throw unexpected(next, '"contents"', at);
        const sizeAt = r.offset;
        const size = await u64("the file size");
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
              const chunk = await r.some(
                left,
                truncated(`the contents of ${JSON.stringify(filePath)}`),
              );
              left -= chunk.length;
              yield chunk;
            }
          },
        };
        yield { kind: "regular", path, executable, size, contents };
        current = false;
        while (left > 0) {
          left -= (await r.some(left, truncated("the file contents"))).length;
        }
        const pad = padLength(size);
        if (r.available < pad) await r.ensure(pad, truncated("the padding of the file contents"));
        checkPadding(size, "the file contents");
        await expect(")");
      } else if (type === "symlink") {
        await expect("target");
        const targetAt = r.offset;
        const raw = await str(MAX_TARGET_BYTES, "the symlink target");
        if (raw.length === 0) throw fail("the symlink target is empty", targetAt);
        if (raw.includes(0)) {
          throw fail(`the symlink target contains a NUL byte: ${showBytes(raw)}`, targetAt);
        }
        const target = utf8(raw, "the symlink target", targetAt);
        await expect(")");
        yield { kind: "symlink", path, target };
      } else if (type === "directory") {
        yield { kind: "directory", path };
        dirs.push({ path, last: undefined });
      } else {
        throw unexpected(type, '"regular", "symlink" or "directory"', at);
      }

      // Close finished directories / entries until the next entry starts.
      let descended = false;
      while (dirs.length > 0) {
        const dir = dirs[dirs.length - 1]!;
        if (dir.path !== path) {
          // `path` was an entry of `dir` and its node is complete: close the entry.
          path = dir.path;
          await expect(")");
        }
        const tokAt = r.offset;
        const next = await token('token "entry" or ")"');
        if (next === ")") {
          dirs.pop();
          yield { kind: "directory-end", path };
          continue;
        }
        if (next !== "entry") throw unexpected(next, '"entry" or ")"', tokAt);
        await expect("(");
        await expect("name");
        const nameAt = r.offset;
        const name = await str(MAX_NAME_BYTES, "the entry name");
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
        await expect("node");
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
