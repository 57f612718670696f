/**
 * Fixes for js-libp2p under Deno (../shared/docs/platform-notes.md §6), applied by
 * {@linkcode applyDenoLibp2pPatches}, which `createNode` calls before it builds
 * a node. Without them a process that ran a libp2p node never exits, or
 * lingers ~10 s after `stop()`:
 *
 * - `broadcastChannelUnref`: mortice (libp2p's peer-store lock) creates a
 *   `BroadcastChannel("mortice")` on the first peer-store write and calls
 *   `channel.unref?.()`; Deno's BroadcastChannel has no `unref()`, so its
 *   pending receive keeps the event loop alive forever. The patch adds an
 *   `unref()` that closes a channel named `mortice` (one node per process:
 *   nobody posts to it). Applied only when `unref` is missing.
 * - `abortSignalTimeout`: Deno keeps the timer behind `AbortSignal.timeout()`
 *   ref'd while the signal has listeners (Node unrefs it); libp2p leaves
 *   listeners on dial, `newStream`, identify and upgrade signals (10 s). The
 *   patch replaces `AbortSignal.timeout` with one that aborts with the same
 *   `TimeoutError` from an unref'd timer. Applied only under Deno, once.
 *
 * `tests/runtime_patches_test.ts` shows, in a fresh Deno process, that each is
 * still needed: it fails once a Deno release fixes one of them.
 *
 * @example
 * ```ts
 * import { applyDenoLibp2pPatches } from "./runtime_patches.ts";
 * applyDenoLibp2pPatches(); // idempotent; before creating a libp2p node
 * ```
 * @module
 */

/** The patches {@linkcode applyDenoLibp2pPatches} has applied in this process. */
export interface AppliedPatches {
  /** `BroadcastChannel.prototype.unref` was added. */
  broadcastChannelUnref: boolean;
  /** `AbortSignal.timeout` was replaced. */
  abortSignalTimeout: boolean;
}

const applied: AppliedPatches = { broadcastChannelUnref: false, abortSignalTimeout: false };

/**
 * Applies the patches this runtime needs (see the module documentation);
 * calling it again changes nothing. Returns what is applied in this process.
 *
 * @example
 * ```ts
 * import { applyDenoLibp2pPatches } from "./runtime_patches.ts";
 * applyDenoLibp2pPatches().abortSignalTimeout; // true under Deno
 * ```
 */
export function applyDenoLibp2pPatches(): Readonly<AppliedPatches> {
  const BC = globalThis.BroadcastChannel;
  if (BC && !("unref" in BC.prototype)) {
    Object.defineProperty(BC.prototype, "unref", {
      configurable: true,
      writable: true,
      value(this: BroadcastChannel) {
        if (this.name === "mortice") this.close();
        return this;
      },
    });
    applied.broadcastChannelUnref = true;
  }
  if (!applied.abortSignalTimeout && "Deno" in globalThis) {
    AbortSignal.timeout = unrefTimeout;
    applied.abortSignalTimeout = true;
  }
  return { ...applied };
}

function unrefTimeout(ms: number): AbortSignal {
  const controller = new AbortController();
  const timer: unknown = setTimeout(
    () =>
      controller.abort(
        new DOMException("The operation was aborted due to timeout", "TimeoutError"),
      ),
    ms,
  );
  const t = timer as { unref?: () => void };
  if (typeof t?.unref === "function") t.unref();
  else Deno.unrefTimer(timer as number);
  return controller.signal;
}
