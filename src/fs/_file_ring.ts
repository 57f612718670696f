/**
 * A single-producer / single-consumer ring of "create this small file"
 * records in shared memory, used by the Deno restore target to hand part of
 * the file creations to a worker thread (`_restore_worker.ts`). The producer
 * never blocks: when the ring is full it creates the file itself.
 *
 * Layout of the control block (BigInt64Array):
 * `[0]` bytes produced, `[1]` bytes consumed, `[2]` stop request
 * (1 = finish the queue, 2 = stop now), `[3]` worker state
 * (0 running, 1 failed, 2 stopped), `[4]` 1 once the worker has loaded;
 * then a 16 KiB UTF-8 error area (u32 length + bytes). Nothing is queued
 * before the worker said it is ready. Records: `u32 length | u32 path length | u32 data
 * length | u8 executable | u8 kind (1 file, 0 wrap) | 2 pad | path | data`,
 * padded to 8 bytes.
 *
 * @example
 * ```ts
 * import { FileRing } from "./_file_ring.ts";
 * const ring = new FileRing(1 << 20);
 * ring.push(new TextEncoder().encode("/tmp/x/a"), false, new Uint8Array(3)); // true
 * ```
 * @module
 */

/** Offsets of the control words. */
export const PRODUCED = 0;
/** Bytes consumed so far. */
export const CONSUMED = 1;
/** Stop request: 0 none, 1 drain and stop, 2 stop now. */
export const STOP = 2;
/** Worker state: 0 running, 1 failed (see error area), 2 stopped. */
export const STATE = 3;
/** 1 once the worker thread has loaded and is consuming. */
export const READY = 4;
/** Byte offset of the error length (u32) and of the error text. */
export const ERROR_LENGTH_AT = 40;
/** Byte offset of the error text. */
export const ERROR_AT = 44;
/** Capacity of the error message area. */
export const ERROR_BYTES = 16384;
/** Size of the control block in bytes (4 words, error length, error area). */
export const CONTROL_BYTES = ERROR_AT + ERROR_BYTES;
/** Record header size. */
export const HEADER = 16;

/** The producer side, owned by the restoring thread. */
export class FileRing {
  /** Control block + error area. */
  readonly control: SharedArrayBuffer;
  /** Record storage. */
  readonly data: SharedArrayBuffer;
  readonly #ctl: BigInt64Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #produced = 0;

  /** Allocates a ring of `capacity` bytes (a multiple of 8). */
  constructor(capacity: number) {
    this.control = new SharedArrayBuffer(CONTROL_BYTES);
    this.data = new SharedArrayBuffer(capacity);
    this.#ctl = new BigInt64Array(this.control, 0, 5);
    this.#bytes = new Uint8Array(this.data);
    this.#view = new DataView(this.data);
  }

  /**
   * Queues a file; false when the worker is not ready yet or the ring is too
   * full (the caller then creates the file itself).
   */
  push(path: Uint8Array, executable: boolean, contents: Uint8Array): boolean {
    if (Atomics.load(this.#ctl, READY) !== 1n) return false;
    const cap = this.#bytes.length;
    const len = align8(HEADER + path.length + contents.length);
    if (len > cap / 2) return false;
    const consumed = Number(Atomics.load(this.#ctl, CONSUMED));
    let at = this.#produced % cap;
    let skip = 0;
    if (cap - at < len) skip = cap - at; // does not fit before the end: wrap
    if (this.#produced + skip + len - consumed > cap) return false;
    if (skip > 0) {
      if (skip >= HEADER) {
        this.#view.setUint32(at, skip, true);
        this.#bytes[at + 13] = 0;
      }
      at = 0;
    }
    const v = this.#view;
    v.setUint32(at, len, true);
    v.setUint32(at + 4, path.length, true);
    v.setUint32(at + 8, contents.length, true);
    this.#bytes[at + 12] = executable ? 1 : 0;
    this.#bytes[at + 13] = 1;
    this.#bytes.set(path, at + HEADER);
    this.#bytes.set(contents, at + HEADER + path.length);
    this.#produced += skip + len;
    Atomics.store(this.#ctl, PRODUCED, BigInt(this.#produced));
    Atomics.notify(this.#ctl, PRODUCED);
    return true;
  }

  /** True once the worker thread has loaded. */
  get ready(): boolean {
    return Atomics.load(this.#ctl, READY) === 1n;
  }

  /**
   * Resolves true once the worker thread has loaded (it notifies the ready
   * word), false if it has not within `timeoutMs`.
   */
  async loaded(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const w = Atomics.waitAsync(this.#ctl, READY, 0n, left);
      if (w.async) await w.value;
    }
    return true;
  }

  /** The worker's error message once it failed, else `undefined`. */
  failure(): string | undefined {
    if (Atomics.load(this.#ctl, STATE) !== 1n) return undefined;
    const view = new DataView(this.control);
    const n = view.getUint32(ERROR_LENGTH_AT, true);
    return new TextDecoder().decode(new Uint8Array(this.control, ERROR_AT, n).slice());
  }

  /** Asks the worker to stop (`drain`: after the queue, else now). */
  stop(drain: boolean): void {
    Atomics.store(this.#ctl, STOP, drain ? 1n : 2n);
    Atomics.notify(this.#ctl, PRODUCED);
  }

  /**
   * Resolves once the worker has stopped (state 1 or 2), or at once if it
   * never loaded (nothing was queued then); rejects after `timeoutMs` or when it crashed later (`crashed()`
   * returns the crash, else `undefined`).
   */
  async stopped(timeoutMs: number, crashed: () => unknown): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = Atomics.load(this.#ctl, STATE);
      if (state !== 0n) return;
      // Nothing is ever queued before it loaded: if it has not, there is nothing to wait for.
      if (Atomics.load(this.#ctl, READY) !== 1n) return;
      const error = crashed();
      if (error) throw new Error(`the restore worker thread crashed: ${error}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the restore worker did not stop within ${timeoutMs} ms`);
      const w = Atomics.waitAsync(this.#ctl, STATE, 0n, Math.min(left, 250));
      if (w.async) await w.value;
    }
  }
}

/** Rounds up to a multiple of 8. */
export function align8(n: number): number {
  return (n + 7) & ~7;
}
