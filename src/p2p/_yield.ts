/**
 * Letting a busy event loop wait for I/O. Deno polls socket readiness only
 * when its event loop has nothing to run: while a download handles blocks that
 * keep arriving (TCP data is always ready), a write that found its socket full
 * — the NAR streaming to the substitute helper over the control socket — does
 * not resume until the loop goes idle. Measured on the leecher: the helper
 * received the NAR in ~200 KiB bursts ~100 ms apart while blocks arrived at
 * full speed, so the NAR reached it mostly after the download
 * (docs/benchmarks.md, "P2P swarm"). `setImmediate` does not help (the loop
 * still never waits); a zero-delay timer does: the loop waits for the timer,
 * and returns at once if any I/O is ready.
 *
 * @example
 * ```ts
 * import { ioPause } from "./_yield.ts";
 * await ioPause(); // pending socket writes progress before this resolves
 * ```
 * @module
 */

/** Resolves after the event loop has polled I/O once (a zero-delay timer). */
export function ioPause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
