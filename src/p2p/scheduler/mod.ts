/**
 * The P2P block scheduler: which block of a NAR to ask which peer for, with
 * per-peer AIMD windows, requeue on failure, rarest-first or in-order
 * selection, and an endgame that cuts the slow-peer tail. Pure: the caller
 * does the networking and supplies the clock.
 *
 * `tests/support/scheduler_sim/` drives it through a discrete-event model of
 * peers, for tests and benchmarks.
 *
 * @example
 * ```ts
 * import { BlockScheduler } from "./mod.ts";
 * const s = new BlockScheduler({ blockCount: 4, now: () => 0, requestTimeoutMs: 20_000 });
 * s.addPeer("a", "all");
 * for (const i of s.next("a")) s.received("a", i);
 * s.done; // true
 * ```
 * @module
 */
export {
  type BlockAvailability,
  BlockScheduler,
  type BlockSchedulerOptions,
  type ExpiredRequest,
  type FailureReason,
  type PeerStats,
  type ReceivedResult,
  type SchedulerStats,
} from "./scheduler.ts";
export { SchedulerError, UnknownPeerError } from "./errors.ts";
