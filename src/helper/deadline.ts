/**
 * The helper's overall deadline for one NAR. The helper trusts neither the
 * daemon nor peers; a compromised daemon could otherwise keep it (and the
 * guix-daemon build waiting on it) busy forever with a trickle of bytes or of
 * progress frames. Deadline = `helper_deadline_grace` + NarSize /
 * `helper_min_rate` (NarSize is signed, so the daemon cannot inflate it).
 *
 * @example
 * ```ts
 * import { fetchDeadlineMs, withDeadline } from "./deadline.ts";
 * const ms = fetchDeadlineMs(1 << 30, { helper_min_rate: 16384, helper_deadline_grace: 600 });
 * const events = withDeadline(client.fetch(params), ms, "/gnu/store/…-hello");
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";

/** The fetch took longer than its deadline. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
}

/** Milliseconds a NAR of `narSize` bytes may take at most. */
export function fetchDeadlineMs(
  narSize: number,
  config: Pick<Config, "helper_min_rate" | "helper_deadline_grace">,
): number {
  return config.helper_deadline_grace * 1000 + narSize / config.helper_min_rate * 1000;
}

/**
 * Wraps an async iterator: once `ms` have passed since the call, the next
 * `next()` (or the one pending) rejects with {@linkcode DeadlineError} and
 * the inner iterator is closed.
 */
export function withDeadline<T>(
  inner: AsyncGenerator<T>,
  ms: number,
  what: string,
): AsyncGenerator<T> {
  const end = Date.now() + ms;
  const expired = () =>
    new DeadlineError(
      `${what}: not received within ${
        Math.round(ms / 1000)
      } s (helper_deadline_grace + NarSize / helper_min_rate)`,
    );
  const wrapped: AsyncGenerator<T> = {
    async next() {
      const left = end - Date.now();
      if (left <= 0) {
        void inner.return(undefined).catch(() => {});
        throw expired();
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        return await Promise.race([
          inner.next(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              void inner.return(undefined).catch(() => {});
              reject(expired());
            }, left);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    return(value) {
      return inner.return(value);
    },
    throw(e) {
      return inner.throw(e);
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
    [Symbol.asyncDispose]() {
      return inner.return(undefined).then(() => {});
    },
  } as AsyncGenerator<T>;
  return wrapped;
}
