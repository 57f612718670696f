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
export function parseNar(
  input: ChunkInput,
  options: ParseNarOptions = {},
): AsyncGenerator<NarEvent, void, undefined> {
  return new NarParser(input, options).events();
}

/** An open directory, with its previous entry name. */
interface OpenDirectory {
  path: string;
  last: Uint8Array | undefined;
}

/**
 * One parse: the reader, the path being parsed and the open directories.
 * The decoders are synchronous: a `fill` with a large enough bound came
 * first, so running short means the input has ended.
 */
class NarParser {
  readonly #r: ByteReader;
  readonly #maxDepth: number;
  readonly #maxSize: number;
  /** Open directories, innermost last. */
  readonly #dirs: OpenDirectory[] = [];
  /** The path of the node being parsed (named in errors). */
  #path = "";

  constructor(input: ChunkInput, options: ParseNarOptions) {
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.#maxSize = options.maxSize ?? Number.MAX_SAFE_INTEGER;
    this.#r = new ByteReader(input, {
      signal: options.signal,
      onChunk: options.onChunk,
      maxBytes: options.maxSize,
      tooLarge: (max) =>
        new NarFormatError(`the NAR is longer than the expected size of ${max} bytes`, {
          offset: max,
          path: this.#path,
        }),
    });
  }

  /** The events of the whole archive, then a check that nothing follows it. */
  async *events(): AsyncGenerator<NarEvent, void, undefined> {
    const r = this.#r;
    try {
      await r.fill(24 + NODE_HEAD);
      this.#expect(TOKENS.magic, NAR_MAGIC);
      for (;;) {
        const node = await this.#node();
        if (node instanceof FileContents) {
          yield node.event;
          await node.rest();
        } else {
          yield node;
        }
        // Close finished entries and directories until the next entry starts.
        let dir: OpenDirectory | undefined;
        while ((dir = this.#dirs.at(-1)) && await this.#closes(dir)) {
          this.#dirs.pop();
          yield { kind: "directory-end", path: this.#path };
        }
        if (!dir) break;
        this.#path = this.#entryName(dir);
      }
      if (!(await r.atEnd())) {
        this.#path = "";
        throw this.#fail("trailing data after the end of the archive");
      }
    } finally {
      r.release();
    }
  }

  /** One node at the current path (its header is in the lookahead): its event, or its file. */
  async #node(): Promise<NarEvent | FileContents> {
    const r = this.#r;
    if (r.available < NODE_HEAD) await r.fill(NODE_HEAD);
    this.#expect(TOKENS.open, "(");
    this.#expect(TOKENS.type, "type");
    const at = r.offset;
    const kind = this.#matches(TOKENS.regular)
      ? "regular"
      : this.#matches(TOKENS.directory)
      ? "directory"
      : this.#matches(TOKENS.symlink)
      ? "symlink"
      : this.#token("the node type");
    if (kind === "regular") return this.#regular();
    if (kind === "symlink") return await this.#symlink();
    if (kind === "directory") {
      this.#dirs.push({ path: this.#path, last: undefined });
      return { kind: "directory", path: this.#path };
    }
    throw this.#unexpected(kind, '"regular", "symlink" or "directory"', at);
  }

  /** A regular file after its type: the executable marker and the size; then its contents. */
  #regular(): FileContents {
    const r = this.#r;
    const executable = this.#executableMarker();
    const sizeAt = r.offset;
    const size = this.#u64("the file size");
    // The contents, their padding and the closing ")" token must fit.
    if (size > this.#maxSize - r.offset - padLength(size) - 16) {
      throw this.#fail(
        `file size ${size} does not fit in the expected NAR size of ${this.#maxSize} bytes`,
        sizeAt,
      );
    }
    const path = this.#path;
    const what = `the contents of ${JSON.stringify(path)}`;
    return new FileContents(r, path, executable, size, async () => {
      if (r.available < 24) await r.fill(24);
      this.#checkPadding(size, "the file contents");
      this.#expect(TOKENS.close, ")");
    }, (left) => this.#short(left, what));
  }

  /** `executable ""` before `contents`, or `contents` alone: whether the file is executable. */
  #executableMarker(): boolean {
    const r = this.#r;
    if (this.#matches(TOKENS.contents)) return false;
    let at = r.offset;
    const next = this.#token('token "executable" or "contents"');
    if (next !== "executable") throw this.#unexpected(next, '"contents"', at);
    const markAt = r.offset;
    const mark = this.#strBody(
      this.#strLength(MAX_TOKEN, 'the "executable" marker'),
      'the "executable" marker',
    );
    if (mark.length !== 0) {
      throw this.#fail(`the "executable" marker must be "", got ${showBytes(mark)}`, markAt);
    }
    at = r.offset;
    if (!this.#matches(TOKENS.contents)) {
      throw this.#unexpected(this.#token('token "contents"'), '"contents"', at);
    }
    return true;
  }

  /** A symlink after its type: the target and the closing `)`. */
  async #symlink(): Promise<NarEvent> {
    const r = this.#r;
    this.#expect(TOKENS.target, "target");
    const targetAt = r.offset;
    const len = this.#strLength(MAX_TARGET_BYTES, "the symlink target");
    if (r.available < len + 8 + 16) await r.fill(len + 8 + 16);
    const raw = this.#strBody(len, "the symlink target");
    if (raw.length === 0) throw this.#fail("the symlink target is empty", targetAt);
    if (raw.includes(0)) {
      throw this.#fail(`the symlink target contains a NUL byte: ${showBytes(raw)}`, targetAt);
    }
    const target = this.#utf8(raw, "the symlink target", targetAt);
    this.#expect(TOKENS.close, ")");
    return { kind: "symlink", path: this.#path, target };
  }

  /**
   * Whether `dir` ends here: first closes the entry just parsed (when the
   * current path is one of its entries), then consumes `)` if it comes next.
   */
  async #closes(dir: OpenDirectory): Promise<boolean> {
    const r = this.#r;
    if (r.available < ENTRY_HEAD + 16) await r.fill(ENTRY_HEAD + 16);
    if (dir.path !== this.#path) {
      this.#path = dir.path;
      this.#expect(TOKENS.close, ")");
    }
    return this.#matches(TOKENS.close);
  }

  /** `entry ( name NAME node`: checks NAME against `dir`'s previous one; the entry's path. */
  #entryName(dir: OpenDirectory): string {
    const r = this.#r;
    if (!this.#matches(TOKENS.entryHead)) {
      const tokAt = r.offset;
      const next = this.#token('token "entry" or ")"');
      if (next !== "entry") throw this.#unexpected(next, '"entry" or ")"', tokAt);
      this.#expect(TOKENS.open, "(");
      this.#expect(TOKENS.name, "name");
    }
    const nameAt = r.offset;
    const name = this.#strBody(
      this.#strLength(MAX_NAME_BYTES, "the entry name"),
      "the entry name",
    );
    const problem = entryNameProblem(name);
    if (problem) throw this.#fail(`${problem}: ${showBytes(name)}`, nameAt);
    if (dir.last && compareBytes(dir.last, name) >= 0) {
      throw this.#fail(
        `entry ${showBytes(name)} is not strictly after the previous entry ${
          showBytes(dir.last)
        } (entries must be unique and sorted by bytes)`,
        nameAt,
      );
    }
    dir.last = name.slice();
    const childPath = joinNarPath(dir.path, this.#utf8(name, "the entry name", nameAt));
    if (this.#dirs.length > this.#maxDepth) {
      this.#path = childPath;
      throw this.#fail(`nesting deeper than ${this.#maxDepth} levels`, nameAt);
    }
    this.#expect(TOKENS.node, "node");
    return childPath;
  }

  #fail(detail: string, offset = this.#r.offset): NarFormatError {
    return new NarFormatError(detail, { offset, path: this.#path });
  }

  #short(needed: number, what: string): NarFormatError {
    const r = this.#r;
    if (!r.eof) throw new Error(`NAR parser: lookahead too small for ${what} at ${r.offset}`);
    return this.#fail(`truncated input: ${needed - r.available} more byte(s) needed for ${what}`);
  }

  #u64(what: string): number {
    const r = this.#r;
    if (r.available < 8) throw this.#short(8, what);
    const b = r.buf;
    const p = r.pos;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    if (hi > 0x1f_ffff) {
      throw this.#fail(
        `${what} ${(BigInt(hi) << 32n) | BigInt(lo)} exceeds Number.MAX_SAFE_INTEGER`,
      );
    }
    r.pos = p + 8;
    return hi * 0x1_0000_0000 + lo;
  }

  #checkPadding(len: number, what: string): void {
    const r = this.#r;
    const pad = padLength(len);
    if (r.available < pad) throw this.#short(pad, `the padding of ${what}`);
    const b = r.buf;
    const at = r.pos;
    for (let i = 0; i < pad; i++) {
      if (b[at + i] !== 0) {
        throw this.#fail(
          `non-zero padding byte 0x${b[at + i]!.toString(16)} after ${what}`,
          r.offset + i,
        );
      }
    }
    r.pos += pad;
  }

  /** The length of a string of at most `limit` bytes. */
  #strLength(limit: number, what: string): number {
    const at = this.#r.offset;
    const len = this.#u64(`the length of ${what}`);
    if (len > limit) throw this.#fail(`${what} is ${len} bytes long, the limit is ${limit}`, at);
    return len;
  }

  /** The payload of a string of length `len` (must be available), without padding. */
  #strBody(len: number, what: string): Uint8Array {
    const r = this.#r;
    if (r.available < len + padLength(len)) throw this.#short(len + padLength(len), what);
    const bytes = r.buf.subarray(r.pos, r.pos + len);
    r.pos += len;
    this.#checkPadding(len, what);
    return bytes;
  }

  /** A keyword token (`what` describes the expected ones), as text. */
  #token(what: string): string {
    const at = this.#r.offset;
    const len = this.#u64(`the length of ${what}`);
    if (len > MAX_TOKEN) throw this.#fail(`expected ${what}, got a string of ${len} bytes`, at);
    const bytes = this.#strBody(len, what);
    let text = "";
    for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
    return text;
  }

  /** Consumes the encoded token `enc` if it comes next (the fast path, no strings). */
  #matches(enc: Uint8Array): boolean {
    const r = this.#r;
    const b = r.buf;
    const p = r.pos;
    const n = enc.length;
    if (b.length - p < n) return false;
    for (let i = 0; i < n; i++) if (b[p + i] !== enc[i]) return false;
    r.pos = p + n;
    return true;
  }

  #expect(enc: Uint8Array, expected: string): void {
    if (this.#matches(enc)) return;
    const at = this.#r.offset;
    const got = this.#token(`token ${JSON.stringify(expected)}`);
    throw this.#fail(`expected token ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`, at);
  }

  #unexpected(got: string, allowed: string, at: number): NarFormatError {
    return this.#fail(`unknown token ${JSON.stringify(got)} (expected ${allowed})`, at);
  }

  #utf8(bytes: Uint8Array, what: string, at: number): string {
    try {
      return strict.decode(bytes);
    } catch {
      throw this.#fail(`${what} is not valid UTF-8: ${showBytes(bytes)}`, at);
    }
  }
}

/**
 * The contents of the regular file just parsed, read straight from the
 * parser's input, and what remains of the file once its event was handled:
 * the unread contents (skipped), the padding and the closing `)`.
 */
class FileContents implements AsyncIterable<Uint8Array> {
  /** The file's event, with this as its contents. */
  readonly event: NarEvent;
  readonly #r: ByteReader;
  readonly #path: string;
  readonly #close: () => Promise<void>;
  readonly #short: (left: number) => Error;
  #left: number;
  #current = true;

  constructor(
    r: ByteReader,
    path: string,
    executable: boolean,
    size: number,
    close: () => Promise<void>,
    short: (left: number) => Error,
  ) {
    this.#r = r;
    this.#path = path;
    this.#left = size;
    this.#close = close;
    this.#short = short;
    this.event = { kind: "regular", path, executable, size, contents: this };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    while (this.#left > 0) {
      if (!this.#current) {
        throw new Error(
          `NAR contents of ${JSON.stringify(this.#path)} read after the parser moved on`,
        );
      }
      yield await this.#chunk();
    }
  }

  /** Skips what the consumer did not read, then the padding and `)`. */
  async rest(): Promise<void> {
    this.#current = false;
    while (this.#left > 0) await this.#chunk();
    await this.#close();
  }

  async #chunk(): Promise<Uint8Array> {
    const chunk = await this.#r.some(this.#left);
    if (chunk.length === 0) throw this.#short(this.#left);
    this.#left -= chunk.length;
    return chunk;
  }
}
