/**
 * Fixes for js-libp2p under Deno, applied before libp2p is imported
 * (platform-notes.md §6): without them a process that ran a libp2p node never
 * exits (mortice's BroadcastChannel has no `unref()` in Deno), or lingers
 * ~10 s after `stop()` (Deno keeps `AbortSignal.timeout()` timers ref'd while
 * the signal has listeners; Node unrefs them).
 *
 * Import this module first in every entry point that may load libp2p.
 *
 * @example
 * ```ts
 * import "./runtime_patches.ts"; // before any libp2p import
 * ```
 * @module
 */

const BC = globalThis.BroadcastChannel;
if (BC && !("unref" in BC.prototype)) {
  Object.defineProperty(BC.prototype, "unref", {
    configurable: true,
    writable: true,
    value(this: BroadcastChannel) {
      // guix-p2p runs one libp2p node per process: nobody posts to mortice's channel.
      if (this.name === "mortice") this.close();
      return this;
    },
  });
}

AbortSignal.timeout = (ms: number): AbortSignal => {
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
};
