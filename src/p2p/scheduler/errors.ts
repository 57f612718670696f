/**
 * Errors of the block scheduler: invalid options and calls that name an
 * unknown peer or an out-of-range block. They are programming errors of the
 * caller (the download loop), never reactions to what a peer sent.
 *
 * @example
 * ```ts
 * import { SchedulerError } from "./errors.ts";
 * const e = new SchedulerError("received(): block index 9 out of range [0, 8)");
 * e.name; // "SchedulerError"
 * ```
 * @module
 */

/**
 * A scheduler call or option is invalid; the message names the call, the
 * value and the allowed range.
 *
 * @example
 * ```ts
 * import { BlockScheduler } from "./scheduler.ts";
 * import { SchedulerError } from "./errors.ts";
 * try {
 *   new BlockScheduler({ blockCount: -1, now: () => 0, requestTimeoutMs: 1000 });
 * } catch (e) {
 *   e instanceof SchedulerError; // true: "blockCount must be an integer in [0, 4294967295], got -1"
 * }
 * ```
 */
export class SchedulerError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SchedulerError";
  }
}

/**
 * A call named a peer the scheduler does not know (never added, or removed).
 *
 * @example
 * ```ts
 * import { UnknownPeerError } from "./errors.ts";
 * new UnknownPeerError("next", "12D3KooWpeer").message; // 'next(): unknown peer "12D3KooWpeer"'
 * ```
 */
export class UnknownPeerError extends SchedulerError {
  /** The peer named in the call. */
  readonly peer: string;
  /** Creates the error for `call` naming `peer`. */
  constructor(call: string, peer: string) {
    super(`${call}(): unknown peer ${JSON.stringify(peer)}`);
    this.name = "UnknownPeerError";
    this.peer = peer;
  }
}
