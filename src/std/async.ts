/**
 * Async helpers in the spirit of `@std/async` (which JSR would provide).
 *
 * @example
 * ```ts
 * import { pooledMap } from "./async.ts";
 * for await (const n of pooledMap(2, [1, 2, 3], async (x) => x * 2)) console.log(n);
 * ```
 * @module
 */

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; yields results
 * in completion order. Errors propagate after in-flight calls settle.
 */
export async function* pooledMap<T, R>(
  limit: number,
  items: Iterable<T>,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = items[Symbol.iterator]();
  const running = new Map<number, Promise<{ key: number; result: PromiseSettledResult<R> }>>();
  let key = 0;
  let firstError: { error: unknown } | undefined;
  const launch = () => {
    const next = iterator.next();
    if (next.done) return false;
    const k = key++;
    running.set(
      k,
      fn(next.value).then(
        (value) => ({ key: k, result: { status: "fulfilled", value } as const }),
        (reason) => ({ key: k, result: { status: "rejected", reason } as const }),
      ),
    );
    return true;
  };
  while (running.size < limit && launch());
  while (running.size > 0) {
    const { key: done, result } = await Promise.race(running.values());
    running.delete(done);
    if (result.status === "fulfilled") {
      if (!firstError) yield result.value;
    } else if (!firstError) firstError = { error: result.reason };
    if (!firstError) launch();
  }
  if (firstError) throw firstError.error;
}

/** Resolves after `ms` milliseconds, or rejects with the signal's reason when aborted. */
export function delay(
  ms: number,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * `promise`, or a rejection with the signal's reason as soon as `signal`
 * aborts (the promise itself goes on; only this caller stops waiting).
 *
 * @example
 * ```ts
 * const reply = await abortable(fetchSomething(), AbortSignal.timeout(1000));
 * ```
 */
export function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A counting semaphore. */
export class Semaphore {
  #free: number;
  #waiters: (() => void)[] = [];

  /** Creates a semaphore with `permits` permits. */
  constructor(permits: number) {
    this.#free = permits;
  }

  /** Waits for a permit; returns a release function. */
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
