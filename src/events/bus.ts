/**
 * A typed event bus. The core emits; logs, the CLI and the dashboard
 * subscribe. Listeners run synchronously and their exceptions are contained
 * (a faulty subscriber never breaks the emitter).
 *
 * @example
 * ```ts
 * import { EventBus } from "./bus.ts";
 * const bus = new EventBus<{ "transfer:done": { bytes: number } }>();
 * const off = bus.on("transfer:done", (e) => console.log(e.bytes));
 * bus.emit("transfer:done", { bytes: 42 });
 * off();
 * ```
 * @module
 */

/** Subscribes and emits events of map `M` (event name → payload). */
export class EventBus<M extends object> {
  #listeners = new Map<keyof M, Set<(payload: never) => void>>();
  #any = new Set<(type: keyof M, payload: M[keyof M]) => void>();

  /** Calls `fn` for each `type` event; returns an unsubscribe function. */
  on<K extends keyof M>(type: K, fn: (payload: M[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, set = new Set());
    set.add(fn as (payload: never) => void);
    return () => set.delete(fn as (payload: never) => void);
  }

  /** Calls `fn` for every event; returns an unsubscribe function. */
  onAny(fn: (type: keyof M, payload: M[keyof M]) => void): () => void {
    this.#any.add(fn);
    return () => this.#any.delete(fn);
  }

  /** Resolves with the next `type` event satisfying `filter`, or rejects after `timeoutMs`. */
  once<K extends keyof M>(
    type: K,
    options: { filter?: (payload: M[K]) => boolean; timeoutMs?: number } = {},
  ): Promise<M[K]> {
    return new Promise((resolve, reject) => {
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
        off();
        reject(new Error(`no "${String(type)}" event within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      const off = this.on(type, (payload) => {
        if (options.filter && !options.filter(payload)) return;
        off();
        if (timer !== undefined) clearTimeout(timer);
        resolve(payload);
      });
    });
  }

  /** Delivers an event to its subscribers. */
  emit<K extends keyof M>(type: K, payload: M[K]): void {
    for (const fn of this.#listeners.get(type) ?? []) {
      try {
        (fn as (p: M[K]) => void)(payload);
      } catch {
        // a subscriber's bug must not break the core
      }
    }
    for (const fn of this.#any) {
      try {
        fn(type, payload);
      } catch {
        // idem
      }
    }
  }
}
