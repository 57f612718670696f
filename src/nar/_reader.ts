/**
 * A byte reader over a stream of chunks for the NAR parser. Small reads are
 * made contiguous (copying at most a few bytes across chunk boundaries); large
 * reads hand out subarrays of the input chunks without copying.
 *
 * @example
 * ```ts
 * import { ByteReader } from "./_reader.ts";
 * const r = new ByteReader([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * await r.ensure(3, () => new Error("short")); // true
 * r.take(3); // Uint8Array [1, 2, 3]
 * ```
 * @module
 */

/** Input accepted by the parser. */
export type ChunkInput =
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | ReadableStream<Uint8Array>;

/** Options of {@linkcode ByteReader}. */
export interface ByteReaderOptions {
  /** Sees every input chunk, in order, as it is pulled (e.g. a hasher). */
  onChunk?: ((chunk: Uint8Array) => void) | undefined;
  /** Rejects pending and later reads with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Called when more than this many bytes arrive. */
  maxBytes?: number | undefined;
  /** Builds the error thrown when the input exceeds `maxBytes` (given the offset). */
  tooLarge?: ((offset: number) => Error) | undefined;
}

const EMPTY = new Uint8Array(0);

/** Pull-based reader with a synchronous fast path (see the module doc). */
export class ByteReader {
  /** Current chunk; bytes `[pos, buf.length)` are unread. */
  buf: Uint8Array = EMPTY;
  /** Read position inside `buf`. */
  pos = 0;
  /** Absolute offset of `buf[0]`. */
  #base = 0;
  #pulled = 0;
  #next: () => Promise<IteratorResult<Uint8Array>>;
  #release: () => void;
  #stash: Uint8Array | undefined;
  #ended = false;
  #options: ByteReaderOptions;
  #abort: Promise<never> | undefined;

  /** Wraps `input`. Call {@linkcode release} when done early. */
  constructor(input: ChunkInput, options: ByteReaderOptions = {}) {
    this.#options = options;
    if (input instanceof ReadableStream) {
      const reader = input.getReader();
      this.#next = () => reader.read() as Promise<IteratorResult<Uint8Array>>;
      this.#release = () => void reader.cancel().catch(() => {});
    } else if (Symbol.asyncIterator in input) {
      const it = input[Symbol.asyncIterator]();
      this.#next = () => it.next();
      this.#release = () => void it.return?.()?.catch?.(() => {});
    } else {
      const it = input[Symbol.iterator]();
      this.#next = () => Promise.resolve(it.next());
      this.#release = () => void it.return?.();
    }
    const signal = options.signal;
    if (signal) {
      this.#abort = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      this.#abort.catch(() => {});
    }
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.#base + this.pos;
  }

  /** Unread bytes in the current chunk. */
  get available(): number {
    return this.buf.length - this.pos;
  }

  /** Cancels the input (idempotent). */
  release(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#release();
  }

  /** Next non-empty chunk, or `undefined` at end of input. */
  async #pull(): Promise<Uint8Array | undefined> {
    if (this.#stash) {
      const s = this.#stash;
      this.#stash = undefined;
      return s;
    }
    while (!this.#ended) {
      const r = await (this.#abort ? Promise.race([this.#next(), this.#abort]) : this.#next());
      if (r.done) {
        this.#ended = true;
        return undefined;
      }
      const chunk = r.value;
      if (chunk.length === 0) continue;
      this.#pulled += chunk.length;
      this.#options.onChunk?.(chunk);
      const max = this.#options.maxBytes;
      if (max !== undefined && this.#pulled > max) {
        throw this.#options.tooLarge?.(max) ?? new RangeError(`input exceeds ${max} bytes`);
      }
      return chunk;
    }
    return undefined;
  }

  /**
   * Makes `n` bytes contiguous at `buf[pos..]`. Resolves `false` at end of
   * input only when no byte at all is left and `eofOk`; otherwise throws
   * `truncated(missing)` when the input ends early.
   */
  async ensure(n: number, truncated: (missing: number) => Error, eofOk = false): Promise<boolean> {
    if (this.available >= n) return true;
    if (this.available === 0) {
      const chunk = await this.#pull();
      if (!chunk) {
        if (eofOk) return false;
        throw truncated(n);
      }
      this.#base += this.buf.length;
      this.buf = chunk;
      this.pos = 0;
      if (chunk.length >= n) return true;
    }
    const joined = new Uint8Array(n);
    let have = this.available;
    joined.set(this.buf.subarray(this.pos));
    while (have < n) {
      const chunk = await this.#pull();
      if (!chunk) throw truncated(n - have);
      const take = Math.min(n - have, chunk.length);
      joined.set(take === chunk.length ? chunk : chunk.subarray(0, take), have);
      have += take;
      if (take < chunk.length) this.#stash = chunk.subarray(take);
    }
    this.#base += this.pos;
    this.buf = joined;
    this.pos = 0;
    return true;
  }

  /** Takes `n` bytes already made available by {@linkcode ensure} (no copy). */
  take(n: number): Uint8Array {
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /**
   * Up to `max` bytes (at least 1) as a subarray of the input, without copying.
   * Throws `truncated(max)` at end of input.
   */
  async some(max: number, truncated: (missing: number) => Error): Promise<Uint8Array> {
    if (this.available === 0) await this.ensure(1, () => truncated(max));
    const n = Math.min(max, this.available);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** True when the input has no byte left (pulls past empty chunks). */
  async atEnd(): Promise<boolean> {
    if (this.available > 0) return false;
    return !(await this.ensure(1, () => new Error("unreachable"), true));
  }

  /** Offset of the byte after the last one pulled (for error messages). */
  get pulled(): number {
    return this.#pulled;
  }
}
