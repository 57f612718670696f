/**
 * Lets a fetch run ahead of its socket. Without it, the daemon's pipeline
 * (HTTP, decompression, hashing) stops whenever the Unix socket's ~200 KB
 * buffer is full, i.e. whenever the helper is busy writing files; with it,
 * the daemon keeps producing while queued bytes wait to be written, so daemon
 * and helper work at the same time on two cores.
 *
 * Bounds: each queue holds at most `perQueue` bytes, and all queues of a
 * server share a {@linkcode SendBudget}: beyond `minAhead` bytes a queue only
 * grows while the budget has room (so 50 concurrent fetches to slow helpers
 * cannot hold 50 × `perQueue`).
 *
 * Frames keep their order (the connection writes them one at a time, in the
 * order they were queued); a write error is thrown by the next call and by
 * {@linkcode SendQueue.drain}.
 *
 * @example
 * ```ts
 * import { SendBudget, SendQueue } from "./_send_queue.ts";
 * const queue = new SendQueue(conn, { perQueue: 4 << 20, minAhead: 256 << 10, budget: new SendBudget(8 << 20) });
 * await queue.data(bytes);            // resolves once the queue is below its bounds again
 * await queue.message({ kind: "progress", id: 1, transferred: 10, total: null });
 * await queue.drain();                // everything written
 * ```
 * @module
 */
import type { FrameConnection } from "./connection.ts";

/** Bytes queued across every queue of a server. */
export class SendBudget {
  /** Bytes the queues may hold together beyond their `minAhead`. */
  readonly total: number;
  #used = 0;
  #waiters = new Set<() => void>();

  /** A budget of `total` bytes. */
  constructor(total: number) {
    this.total = total;
  }

  /** Bytes queued now. */
  get used(): number {
    return this.#used;
  }

  /** Records `n` more (or, negative, fewer) queued bytes; frees waiters when bytes leave. */
  add(n: number): void {
    this.#used += n;
    if (n < 0) { for (const wake of this.#waiters) wake(); }
  }

  /** Resolves at the next release. */
  released(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
    });
  }
}

/** Bounds of a {@linkcode SendQueue}. */
export interface SendQueueLimits {
  /** Most bytes this queue holds. */
  perQueue: number;
  /** Bytes this queue may always hold, whatever the shared budget says. */
  minAhead: number;
  /** The server-wide budget. */
  budget: SendBudget;
}

/** A bounded write-behind queue over one connection. */
export class SendQueue {
  #conn: Pick<FrameConnection, "sendData" | "sendMessage">;
  #limits: SendQueueLimits;
  #queued = 0;
  #error: { reason: unknown } | undefined;
  #last: Promise<void> = Promise.resolve();

  /** Queues onto `conn` within `limits`. */
  constructor(conn: Pick<FrameConnection, "sendData" | "sendMessage">, limits: SendQueueLimits) {
    this.#conn = conn;
    this.#limits = limits;
  }

  /** Bytes queued and not yet written. */
  get queued(): number {
    return this.#queued;
  }

  /** Queues NAR bytes; resolves when the queue is within its bounds again. */
  async data(bytes: Uint8Array): Promise<void> {
    this.#enqueue(bytes.length, () => this.#conn.sendData(bytes));
    const { perQueue, minAhead, budget } = this.#limits;
    while (
      this.#error === undefined &&
      (this.#queued > perQueue || (this.#queued > minAhead && budget.used > budget.total))
    ) {
      await budget.released();
    }
    if (this.#error) throw this.#error.reason;
  }

  /** Queues a JSON message (never waits for the queue to drain). */
  message(message: unknown): Promise<void> {
    try {
      this.#enqueue(0, () => this.#conn.sendMessage(message));
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#error ? Promise.reject(this.#error.reason) : Promise.resolve();
  }

  /** Resolves once everything queued was written; rejects with the first write error. */
  async drain(): Promise<void> {
    await this.#last;
    if (this.#error) throw this.#error.reason;
  }

  #enqueue(size: number, send: () => Promise<void>): void {
    if (this.#error) throw this.#error.reason;
    this.#queued += size;
    this.#limits.budget.add(size);
    const settle = () => {
      this.#queued -= size;
      this.#limits.budget.add(-size);
    };
    this.#last = send().then(settle, (e) => {
      this.#error ??= { reason: e };
      settle();
    });
  }
}
