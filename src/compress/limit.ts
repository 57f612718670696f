/**
 * Output caps: a pass-through stream that fails once more than a given number
 * of bytes went through, optionally also when fewer arrived by the end.
 *
 * @example
 * ```ts
 * import { limitOutput } from "./limit.ts";
 * const narSize = 3;
 * await new Blob(["abc"]).stream()
 *   .pipeThrough(limitOutput(narSize, { exact: true }))
 *   .pipeTo(new WritableStream());
 * ```
 * @module
 */
import { OutputLimitError } from "./errors.ts";

/** Options of {@linkcode limitOutput}. */
export interface LimitOutputOptions {
  /** Also fail at the end of the stream when fewer than `max` bytes went through. */
  exact?: boolean;
}

/**
 * A pass-through `TransformStream` that errors with {@linkcode OutputLimitError}
 * as soon as a chunk would take the total past `max` bytes (that chunk is not
 * passed on), and, with `exact`, when the stream ends short of `max`.
 *
 * @example
 * ```ts
 * import { limitOutput } from "./limit.ts";
 * import { OutputLimitError } from "./errors.ts";
 * const out = new Blob(["too long"]).stream().pipeThrough(limitOutput(4));
 * await out.pipeTo(new WritableStream()).catch((e) => e instanceof OutputLimitError);
 * ```
 */
export function limitOutput(
  max: number,
  options: LimitOutputOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  checkLimit(max);
  let total = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      total += chunk.byteLength;
      if (total > max) throw new OutputLimitError(max, total);
      controller.enqueue(chunk);
    },
    flush() {
      if (options.exact && total !== max) throw new OutputLimitError(max, total, true);
    },
  });
}

/**
 * Throws a `RangeError` unless `max` is a non-negative safe integer.
 *
 * @example
 * ```ts
 * import { checkLimit } from "./limit.ts";
 * checkLimit(1024); // fine
 * ```
 */
export function checkLimit(max: number): void {
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new RangeError(`output limit must be a non-negative safe integer, got ${max}`);
  }
}
