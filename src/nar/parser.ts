/**
 * Strict streaming NAR parser. It turns NAR bytes into a sequence of events
 * and rejects anything that is not the canonical encoding of a tree
 * (../shared/docs/guix-substitute-protocol.md §5.2, §6.2) with a {@linkcode NarFormatError}
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
import { MAX_TOKEN, NarDecoder } from "./_decoder.ts";
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

/**
 * Lookahead that covers one node header: `(` `type` <type> [`executable` ""]
 * `contents` <size>, with every token at its longest (13 bytes).
 */
const NODE_HEAD = 128;
/** Lookahead for `entry` `(` `name` <name ≤ 255> `node` plus the node header. */
const ENTRY_HEAD = 16 + 16 + 16 + 8 + 256 + 16 + NODE_HEAD;

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
  readonly #d: NarDecoder;
  readonly #r: ByteReader;
  readonly #maxDepth: number;
  readonly #maxSize: number;
  /** Open directories, innermost last. */
  readonly #dirs: OpenDirectory[] = [];

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
          path: this.#d.path,
        }),
    });
    this.#d = new NarDecoder(this.#r);
  }

  /** The events of the whole archive, then a check that nothing follows it. */
  async *events(): AsyncGenerator<NarEvent, void, undefined> {
    const r = this.#r;
    try {
      await r.fill(24 + NODE_HEAD);
      this.#d.expect(TOKENS.magic, NAR_MAGIC);
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
          yield { kind: "directory-end", path: this.#d.path };
        }
        if (!dir) break;
        this.#d.path = this.#entryName(dir);
      }
      if (!(await r.atEnd())) {
        this.#d.path = "";
        throw this.#d.fail("trailing data after the end of the archive");
      }
    } finally {
      r.release();
    }
  }

  /** One node at the current path (its header is in the lookahead): its event, or its file. */
  async #node(): Promise<NarEvent | FileContents> {
    const r = this.#r;
    if (r.available < NODE_HEAD) await r.fill(NODE_HEAD);
    this.#d.expect(TOKENS.open, "(");
    this.#d.expect(TOKENS.type, "type");
    const at = r.offset;
    const kind = this.#d.matches(TOKENS.regular)
      ? "regular"
      : this.#d.matches(TOKENS.directory)
      ? "directory"
      : this.#d.matches(TOKENS.symlink)
      ? "symlink"
      : this.#d.token("the node type");
    if (kind === "regular") return this.#regular();
    if (kind === "symlink") return await this.#symlink();
    if (kind === "directory") {
      this.#dirs.push({ path: this.#d.path, last: undefined });
      return { kind: "directory", path: this.#d.path };
    }
    throw this.#d.unexpected(kind, '"regular", "symlink" or "directory"', at);
  }

  /** A regular file after its type: the executable marker and the size; then its contents. */
  #regular(): FileContents {
    const r = this.#r;
    const executable = this.#executableMarker();
    const sizeAt = r.offset;
    const size = this.#d.u64("the file size");
    // The contents, their padding and the closing ")" token must fit.
    if (size > this.#maxSize - r.offset - padLength(size) - 16) {
      throw this.#d.fail(
        `file size ${size} does not fit in the expected NAR size of ${this.#maxSize} bytes`,
        sizeAt,
      );
    }
    const path = this.#d.path;
    const what = `the contents of ${JSON.stringify(path)}`;
    return new FileContents(r, path, executable, size, async () => {
      if (r.available < 24) await r.fill(24);
      this.#d.checkPadding(size, "the file contents");
      this.#d.expect(TOKENS.close, ")");
    }, (left) => this.#d.short(left, what));
  }

  /** `executable ""` before `contents`, or `contents` alone: whether the file is executable. */
  #executableMarker(): boolean {
    const r = this.#r;
    if (this.#d.matches(TOKENS.contents)) return false;
    let at = r.offset;
    const next = this.#d.token('token "executable" or "contents"');
    if (next !== "executable") throw this.#d.unexpected(next, '"contents"', at);
    const markAt = r.offset;
    const mark = this.#d.strBody(
      this.#d.strLength(MAX_TOKEN, 'the "executable" marker'),
      'the "executable" marker',
    );
    if (mark.length !== 0) {
      throw this.#d.fail(`the "executable" marker must be "", got ${showBytes(mark)}`, markAt);
    }
    at = r.offset;
    if (!this.#d.matches(TOKENS.contents)) {
      throw this.#d.unexpected(this.#d.token('token "contents"'), '"contents"', at);
    }
    return true;
  }

  /** A symlink after its type: the target and the closing `)`. */
  async #symlink(): Promise<NarEvent> {
    const r = this.#r;
    this.#d.expect(TOKENS.target, "target");
    const targetAt = r.offset;
    const len = this.#d.strLength(MAX_TARGET_BYTES, "the symlink target");
    if (r.available < len + 8 + 16) await r.fill(len + 8 + 16);
    const raw = this.#d.strBody(len, "the symlink target");
    if (raw.length === 0) throw this.#d.fail("the symlink target is empty", targetAt);
    if (raw.includes(0)) {
      throw this.#d.fail(`the symlink target contains a NUL byte: ${showBytes(raw)}`, targetAt);
    }
    const target = this.#d.utf8(raw, "the symlink target", targetAt);
    this.#d.expect(TOKENS.close, ")");
    return { kind: "symlink", path: this.#d.path, target };
  }

  /**
   * Whether `dir` ends here: first closes the entry just parsed (when the
   * current path is one of its entries), then consumes `)` if it comes next.
   */
  async #closes(dir: OpenDirectory): Promise<boolean> {
    const r = this.#r;
    if (r.available < ENTRY_HEAD + 16) await r.fill(ENTRY_HEAD + 16);
    if (dir.path !== this.#d.path) {
      this.#d.path = dir.path;
      this.#d.expect(TOKENS.close, ")");
    }
    return this.#d.matches(TOKENS.close);
  }

  /** `entry ( name NAME node`: checks NAME against `dir`'s previous one; the entry's path. */
  #entryName(dir: OpenDirectory): string {
    const r = this.#r;
    if (!this.#d.matches(TOKENS.entryHead)) {
      const tokAt = r.offset;
      const next = this.#d.token('token "entry" or ")"');
      if (next !== "entry") throw this.#d.unexpected(next, '"entry" or ")"', tokAt);
      this.#d.expect(TOKENS.open, "(");
      this.#d.expect(TOKENS.name, "name");
    }
    const nameAt = r.offset;
    const name = this.#d.strBody(
      this.#d.strLength(MAX_NAME_BYTES, "the entry name"),
      "the entry name",
    );
    const problem = entryNameProblem(name);
    if (problem) throw this.#d.fail(`${problem}: ${showBytes(name)}`, nameAt);
    if (dir.last && compareBytes(dir.last, name) >= 0) {
      throw this.#d.fail(
        `entry ${showBytes(name)} is not strictly after the previous entry ${
          showBytes(dir.last)
        } (entries must be unique and sorted by bytes)`,
        nameAt,
      );
    }
    dir.last = name.slice();
    const childPath = joinNarPath(dir.path, this.#d.utf8(name, "the entry name", nameAt));
    if (this.#dirs.length > this.#maxDepth) {
      this.#d.path = childPath;
      throw this.#d.fail(`nesting deeper than ${this.#maxDepth} levels`, nameAt);
    }
    this.#d.expect(TOKENS.node, "node");
    return childPath;
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
