/**
 * Turns a pull-driven decoding engine into a readable/writable pair with
 * backpressure on both sides, an output cap, abort and cancel handling.
 *
 * The engine only produces output when the readable side is read
 * (`highWaterMark: 0`), and a write only resolves once the engine accepted
 * the chunk, so neither side buffers unboundedly: a zip bomb inflates only
 * as fast as the consumer reads, and stops at `maxOutput`.
 *
 * @example
 * ```ts
 * import { type DecodeEngine, engineStream } from "./_engine_stream.ts";
 * declare const engine: DecodeEngine;
 * const pair = engineStream(engine, { format: "lzip", maxOutput: 1 << 20 });
 * ```
 * @module
 */
import { DecompressionError, OutputLimitError } from "./errors.ts";

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * The decoding engine behind {@linkcode engineStream}. Calls never overlap
 * per method: `write`/`end` come from the writable side one at a time, `read`
 * from the readable side one at a time, but a `read` may be pending while a
 * `write` runs (and must be, for engines that need more input to produce
 * output).
 */
export interface DecodeEngine {
  /** Accepts one input chunk; resolves once the engine took it (backpressure). */
  write(chunk: Uint8Array): MaybePromise<void>;
  /** The input ended; checks for truncation may throw here or in `read`. */
  end(): MaybePromise<void>;
  /** The next output chunk (may be empty), or `null` once all output was read and checked. */
  read(): MaybePromise<Uint8Array | null>;
  /** Stops all work and frees resources (kills a child process...); pending calls must settle. */
  destroy(reason: unknown): void;
}

/** Options of {@linkcode engineStream}. */
export interface EngineStreamOptions {
  /** Format name for error messages. */
  format: string;
  /** Fail with {@linkcode OutputLimitError} once more than this many bytes came out. */
  maxOutput?: number | undefined;
  /** Aborting fails both sides with the signal's reason and destroys the engine. */
  signal?: AbortSignal | undefined;
}

/**
 * Wraps `engine` as a `{ readable, writable }` pair, structurally a
 * `TransformStream` (use it with `pipeThrough`). Any failure (engine error,
 * output cap, abort, cancel of the readable, abort of the writable) errors
 * both sides and destroys the engine exactly once.
 *
 * @example
 * ```ts
 * import { engineStream } from "./_engine_stream.ts";
 * declare const engine: import("./_engine_stream.ts").DecodeEngine;
 * const out = new Blob(["x"]).stream().pipeThrough(engineStream(engine, { format: "none" }));
 * ```
 */
export function engineStream(
  engine: DecodeEngine,
  options: EngineStreamOptions,
): TransformStream<Uint8Array, Uint8Array> {
  const { format, maxOutput, signal } = options;
  let readableController!: ReadableStreamDefaultController<Uint8Array>;
  let writableController!: WritableStreamDefaultController;
  let settled = false;
  let failure: unknown;
  let produced = 0;

  const cleanup = () => {
    settled = true;
    signal?.removeEventListener("abort", onAbort);
  };
  const fail = (reason: unknown, fromEngine = false): unknown => {
    if (settled) return failure;
    failure = fromEngine ? normalise(format, reason) : reason;
    cleanup();
    try {
      engine.destroy(failure);
    } catch {
      // destroy must not throw; nothing more to release if it does.
    }
    try {
      readableController.error(failure);
    } catch {
      // already closed or cancelled
    }
    try {
      writableController.error(failure);
    } catch {
      // already closed or aborted
    }
    return failure;
  };
  const onAbort = () => fail(signal?.reason);

  const writable = new WritableStream<Uint8Array>({
    start(controller) {
      writableController = controller;
    },
    async write(chunk) {
      if (settled) throw failure;
      try {
        await engine.write(chunk);
      } catch (e) {
        throw fail(e, true);
      }
    },
    async close() {
      if (settled) throw failure;
      try {
        await engine.end();
      } catch (e) {
        throw fail(e, true);
      }
    },
    abort(reason) {
      fail(reason);
    },
  });

  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      readableController = controller;
    },
    async pull(controller) {
      if (settled) return;
      try {
        let chunk: Uint8Array | null;
        do chunk = await engine.read(); while (chunk !== null && chunk.byteLength === 0);
        if (settled) return;
        if (chunk === null) {
          cleanup();
          controller.close();
          return;
        }
        produced += chunk.byteLength;
        if (maxOutput !== undefined && produced > maxOutput) {
          throw new OutputLimitError(maxOutput, produced);
        }
        controller.enqueue(chunk);
      } catch (e) {
        fail(e, true);
      }
    },
    cancel(reason) {
      fail(reason ?? new DOMException("decompression output cancelled", "AbortError"));
    },
  }, { highWaterMark: 0 });

  if (signal?.aborted) fail(signal.reason);
  else signal?.addEventListener("abort", onAbort, { once: true });
  return { readable, writable } as TransformStream<Uint8Array, Uint8Array>;
}

/**
 * Keeps our own errors as they are; wraps anything else an engine threw (a
 * zlib error, a stream error) in a {@linkcode DecompressionError}.
 */
function normalise(format: string, reason: unknown): unknown {
  if (
    reason instanceof DecompressionError || reason instanceof OutputLimitError ||
    reason instanceof DOMException
  ) {
    return reason;
  }
  if (!(reason instanceof Error)) {
    return new DecompressionError(format, String(reason), { cause: reason });
  }
  return new DecompressionError(format, reason.message, { cause: reason });
}
