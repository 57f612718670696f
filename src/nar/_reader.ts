/**
 * A byte reader over a stream of chunks for the NAR parser. `fill(n)` makes up
 * to `n` bytes contiguous at `buf[pos..]` — copying only the few bytes that
 * straddle a chunk boundary — so the parser can decode tokens synchronously;
 * `some(max)` hands out file contents as subarrays of the input, never copied.
 *
 * @example
 * ```ts
 * import { ByteReader } from "./_reader.ts";
 * const r = new ByteReader([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * await r.fill(3);
 * r.available; // 3
 * r.buf.subarray(r.pos, r.pos + 3); // Uint8Array [1, 2, 3]
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
  /** Input longer than this many bytes is an error. */
  maxBytes?: number | undefined;
  /** Builds the error thrown when the input exceeds `maxBytes`. */
  tooLarge?: ((maxBytes: number) => Error) | undefined;
}

const EMPTY = new Uint8Array(0);
/** Largest and smallest buffer for reads from byte streams. */
const MAX_READ = 1 << 20;
const MIN_READ = 64 << 10;

/** Pull-based reader with a synchronous fast path (see the module doc). */
export class ByteReader {
  /** Current buffer; bytes `[pos, buf.length)` are unread. */
  buf: Uint8Array = EMPTY;
  /** Read position inside `buf`. */
  pos = 0;
  /** Absolute offset of `buf[0]`. */
  #base = 0;
  /**
   * When `buf` is a joined copy: the input chunk whose first bytes were copied
   * to `buf[#tail..]`. Once reading passes `#tail` we switch back to it.
   */
  #next: Uint8Array | undefined;
  #tail = -1;
  #eof = false;
  #pulled = 0;
  #read: () => Promise<IteratorResult<Uint8Array>>;
  #release: () => void;
  #released = false;
  #options: ByteReaderOptions;
  #abort: Promise<never> | undefined;

  /** Wraps `input`. Call {@linkcode release} when done. */
  constructor(input: ChunkInput, options: ByteReaderOptions = {}) {
    this.#options = options;
    if (input instanceof ReadableStream) {
      let byob: ReadableStreamBYOBReader | undefined;
      try {
        byob = input.getReader({ mode: "byob" });
      } catch {
        // Not a byte stream.
      }
      if (byob) {
        // Byte streams (files, stdin, sockets): read straight into our own buffers,
        // sized to what the source delivers (1 MiB from files, 64 KiB from pipes).
        const reader = byob;
        let size = MAX_READ;
        this.#read = async () => {
          const r = await reader.read(new Uint8Array(size));
          if (r.value) size = Math.min(MAX_READ, Math.max(MIN_READ, 2 * r.value.length));
          return r as IteratorResult<Uint8Array>;
        };
        this.#release = () => void reader.cancel().catch(() => {});
      } else {
        const reader = input.getReader();
        this.#read = () => reader.read() as Promise<IteratorResult<Uint8Array>>;
        this.#release = () => void reader.cancel().catch(() => {});
      }
    } else if (Symbol.asyncIterator in input) {
      const it = input[Symbol.asyncIterator]();
      this.#read = () => it.next();
      this.#release = () => void it.return?.()?.catch?.(() => {});
    } else {
      const it = input[Symbol.iterator]();
      this.#read = () => Promise.resolve(it.next());
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

  /** Unread bytes in `buf`. */
  get available(): number {
    return this.buf.length - this.pos;
  }

  /** True once a `fill` hit the end of the input. */
  get eof(): boolean {
    return this.#eof;
  }

  /** Cancels the input (idempotent). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#release();
  }

  /** Next non-empty input chunk, or `undefined` at the end. */
  async #pull(): Promise<Uint8Array | undefined> {
    while (!this.#released) {
      const r = await (this.#abort ? Promise.race([this.#read(), this.#abort]) : this.#read());
      if (r.done) {
        this.#released = true;
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
   * Makes `min(n, bytes left in the input)` bytes contiguous at `buf[pos..]`.
   * Afterwards `available < n` means the input ends there (`eof` is set).
   */
  async fill(n: number): Promise<void> {
    for (;;) {
      if (this.available >= n) return;
      if (this.#next && this.pos >= this.#tail) {
        // Past the copied bytes: continue in the original chunk, no copy.
        this.#base += this.#tail;
        this.pos -= this.#tail;
        this.buf = this.#next;
        this.#next = undefined;
        this.#tail = -1;
        continue;
      }
      if (this.available === 0 && !this.#next) {
        const chunk = await this.#pull();
        if (!chunk) {
          this.#eof = true;
          return;
        }
        this.#base += this.buf.length;
        this.buf = chunk;
        this.pos = 0;
        continue;
      }
      await this.#join(n);
      return;
    }
  }

  /** `buf` := unread bytes + the first bytes of the following chunks, `n` in all. */
  async #join(n: number): Promise<void> {
    const end = this.#next ? this.#tail : this.buf.length;
    const joined = new Uint8Array(n);
    joined.set(this.buf.subarray(this.pos, end));
    let have = end - this.pos;
    const start = this.#base + this.pos;
    let chunk = this.#next ?? (await this.#pull());
    this.#next = undefined;
    this.#tail = -1;
    while (chunk) {
      const take = Math.min(n - have, chunk.length);
      joined.set(take === chunk.length ? chunk : chunk.subarray(0, take), have);
      if (take < chunk.length) {
        this.#next = chunk;
        this.#tail = have;
      }
      have += take;
      if (have === n) break;
      chunk = await this.#pull();
    }
    if (have < n) this.#eof = true;
    this.buf = have < n ? joined.subarray(0, have) : joined;
    this.pos = 0;
    this.#base = start;
  }

  /**
   * Up to `max` (> 0) bytes as a subarray of the input, without copying;
   * an empty array at the end of the input.
   */
  async some(max: number): Promise<Uint8Array> {
    if (this.available === 0) await this.fill(1);
    const n = Math.min(max, this.available);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** True when no byte is left in the input. */
  async atEnd(): Promise<boolean> {
    if (this.available > 0) return false;
    await this.fill(1);
    return this.available === 0;
  }
}
