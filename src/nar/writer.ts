/**
 * NAR writer: serialises a tree read through a {@linkcode NarSource} into NAR
 * bytes. Entries go out in UTF-8 byte order, regular files are executable
 * when the owner-execute bit is set, symlink targets are verbatim.
 *
 * Output is coalesced into chunks of `chunkSize` bytes (1 MiB by default):
 * headers and the contents of small files share chunks, large files are read
 * straight into them, so a file is never held in memory whole.
 *
 * @example
 * ```ts
 * import { memoryNarSource } from "./memory_source.ts";
 * import { narStream, writeNar } from "./writer.ts";
 * const source = memoryNarSource({ kind: "regular", contents: new Uint8Array() });
 * const size = await writeNar(source, "/", () => {}); // 112
 * const bytes = await new Response(narStream(source, "/")).bytes(); // 112 bytes
 * ```
 * @module
 */
import { writeU64 } from "./_format.ts";
import { walkNar } from "./_walk.ts";
import { NarSourceError } from "./errors.ts";
import type { MaybePromise, NarSource, NarSourceFile } from "./source.ts";

/** Options of {@linkcode writeNar}. */
export interface WriteNarOptions {
  /** Stops the writer with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Size of the emitted chunks (the last one may be shorter). Default 1 MiB, minimum 64 KiB. */
  chunkSize?: number | undefined;
  /**
   * Reuse one buffer for every chunk. Only for consumers that are done with a
   * chunk when `emit` returns or its promise settles (e.g. a hasher).
   */
  reuseBuffer?: boolean | undefined;
  /**
   * Supplies the buffer for each new chunk, of exactly `chunkSize` bytes
   * (e.g. from a pool of buffers a consumer has handed back).
   */
  allocate?: ((size: number) => Uint8Array) | undefined;
}

/** Default output chunk size. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;
const MIN_CHUNK_SIZE = 64 << 10;

/**
 * Serialises `path` of `source` and hands the NAR to `emit` chunk by chunk,
 * waiting for `emit`'s promise (if any) before continuing. Resolves to the
 * NAR size.
 * @throws {NarSourceError} for sockets, FIFOs, devices, non-UTF-8 names, I/O errors.
 *
 * @example
 * ```ts
 * import { memoryNarSource } from "./memory_source.ts";
 * import { writeNar } from "./writer.ts";
 * const parts: Uint8Array[] = [];
 * await writeNar(memoryNarSource({ kind: "symlink", target: "x" }), "/", (c) => {
 *   parts.push(c.slice());
 * });
 * ```
 */
export async function writeNar(
  source: NarSource,
  path: string,
  emit: (chunk: Uint8Array) => MaybePromise<void>,
  options: WriteNarOptions = {},
): Promise<number> {
  const signal = options.signal;
  const cap = Math.max(MIN_CHUNK_SIZE, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const reuse = options.reuseBuffer ?? false;
  const allocate = (): Uint8Array => {
    const b = options.allocate ? options.allocate(cap) : new Uint8Array(cap);
    if (b.length !== cap) throw new RangeError(`allocate returned ${b.length} bytes, not ${cap}`);
    return b;
  };
  let buf: Uint8Array = allocate();
  let pos = 0;
  let total = 0;
  // Chunks filled by synchronous header writes, emitted at the next await point.
  let pending: Uint8Array[] = [];
  // Emitted buffers ready for reuse (only with `reuseBuffer`).
  const spare: Uint8Array[] = [];

  const rotate = () => {
    pending.push(buf);
    total += buf.length;
    buf = spare.pop() ?? allocate();
    pos = 0;
  };
  const flushPending = async () => {
    const chunks = pending;
    pending = [];
    for (const chunk of chunks) {
      const r = emit(chunk);
      if (r) await r;
      if (reuse) spare.push(chunk);
    }
  };
  const bytes = (b: Uint8Array) => {
    let at = 0;
    while (at < b.length) {
      if (pos === cap) rotate();
      const n = Math.min(cap - pos, b.length - at);
      buf.set(n === b.length ? b : b.subarray(at, at + n), pos);
      pos += n;
      at += n;
    }
  };

  const shrank = (filePath: string, size: number, done: number) =>
    new NarSourceError(
      `file shrank while being read: lstat said ${size} bytes, got only ${done}`,
      filePath,
    );
  /** Copies a file into the output; stays synchronous while the source and buffer allow. */
  const readFile = (filePath: string, size: number): MaybePromise<void> => {
    const opened = source.open(filePath);
    if (opened instanceof Promise) return opened.then((file) => readRest(file, filePath, size, 0));
    const file = opened;
    let done = 0;
    try {
      while (done < size) {
        if (pos === cap) return readRest(file, filePath, size, done);
        const want = Math.min(cap - pos, size - done);
        const r = file.read(buf.subarray(pos, pos + want), done);
        if (typeof r !== "number") return readRest(file, filePath, size, done, r);
        if (r <= 0) throw shrank(filePath, size, done);
        pos += r;
        done += r;
      }
    } catch (e) {
      const closed = file.close();
      if (closed instanceof Promise) closed.catch(() => {});
      throw e;
    }
    return file.close();
  };
  /** The asynchronous rest of {@linkcode readFile}; closes the file. */
  const readRest = async (
    file: NarSourceFile,
    filePath: string,
    size: number,
    done: number,
    inFlight?: Promise<number>,
  ): Promise<void> => {
    try {
      for (;;) {
        if (inFlight) {
          const n = await inFlight;
          inFlight = undefined;
          if (n <= 0) throw shrank(filePath, size, done);
          pos += n;
          done += n;
        }
        if (done >= size) break;
        if (pos === cap) {
          rotate();
          await flushPending();
          signal?.throwIfAborted();
        }
        const want = Math.min(cap - pos, size - done);
        const r = file.read(buf.subarray(pos, pos + want), done);
        if (typeof r === "number") {
          if (r <= 0) throw shrank(filePath, size, done);
          pos += r;
          done += r;
        } else {
          inFlight = r;
        }
      }
    } finally {
      await file.close();
    }
  };

  await walkNar(source, path, {
    bytes,
    u64(value) {
      if (cap - pos < 8) {
        const tmp = new Uint8Array(8);
        writeU64(tmp, 0, value);
        bytes(tmp);
      } else {
        writeU64(buf, pos, value);
        pos += 8;
      }
    },
    pause() {
      return pending.length > 0 ? flushPending() : undefined;
    },
    contents(filePath, size) {
      if (pending.length > 0) return flushPending().then(() => readFile(filePath, size));
      return readFile(filePath, size);
    },
  }, { signal });

  if (pos > 0) {
    pending.push(buf.subarray(0, pos));
    total += pos;
  }
  await flushPending();
  return total;
}

/**
 * The NAR of `path` as a `ReadableStream` with backpressure; cancelling the
 * stream stops the walk.
 *
 * @example
 * ```ts
 * import { memoryNarSource } from "./memory_source.ts";
 * import { narStream } from "./writer.ts";
 * const stream = narStream(memoryNarSource({ kind: "directory", entries: {} }), "/");
 * for await (const chunk of stream) console.log(chunk.length); // 96
 * ```
 */
export function narStream(
  source: NarSource,
  path: string,
  options: Omit<WriteNarOptions, "reuseBuffer"> = {},
): ReadableStream<Uint8Array> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let wake: (() => void) | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      writeNar(source, path, (chunk) => {
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) > 0) return;
        return new Promise<void>((resolve) => (wake = resolve));
      }, { signal, chunkSize: options.chunkSize }).then(
        () => controller.close(),
        (e) => {
          if (!stop.signal.aborted) controller.error(e);
        },
      );
    },
    pull() {
      const w = wake;
      wake = undefined;
      w?.();
    },
    cancel(reason) {
      stop.abort(reason);
      const w = wake;
      wake = undefined;
      w?.();
    },
  }, { highWaterMark: 2 });
}
