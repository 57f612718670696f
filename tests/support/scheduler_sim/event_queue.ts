/**
 * A min-heap of timed events for the download simulator: earliest first,
 * ties in insertion order (so a simulation is deterministic).
 *
 * @example
 * ```ts
 * import { EventQueue } from "./event_queue.ts";
 * const q = new EventQueue<string>();
 * q.push(20, "b");
 * q.push(10, "a");
 * q.pop(); // { at: 10, seq: 1, value: "a" }
 * ```
 * @module
 */

/** One queued event. */
export interface Timed<T> {
  at: number;
  seq: number;
  value: T;
}

/** Events ordered by time, then by insertion. */
export class EventQueue<T> {
  #heap: Timed<T>[] = [];
  #seq = 0;

  /** Number of queued events. */
  get size(): number {
    return this.#heap.length;
  }

  /** Queues `value` at time `at`. */
  push(at: number, value: T): void {
    const h = this.#heap;
    h.push({ at, seq: this.#seq++, value });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  /** Removes and returns the earliest event, or undefined. */
  pop(): Timed<T> | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less<T>(a: Timed<T>, b: Timed<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
