/**
 * The `none` compression: a {@linkcode DecodeEngine} that hands each input
 * chunk on unchanged, one at a time (a write resolves once its chunk was read).
 *
 * @example
 * ```ts
 * import { identityEngine } from "./_identity.ts";
 * import { engineStream } from "./_engine_stream.ts";
 * const none = engineStream(identityEngine(), { format: "none", maxOutput: 1024 });
 * ```
 * @module
 */
import { Changes } from "./_changes.ts";
import type { DecodeEngine } from "./_engine_stream.ts";

/**
 * Creates the pass-through engine.
 *
 * @example
 * ```ts
 * import { identityEngine } from "./_identity.ts";
 * const engine = identityEngine();
 * ```
 */
export function identityEngine(): DecodeEngine {
  const changes = new Changes();
  let slot: Uint8Array | undefined;
  let ended = false;
  let error: unknown;
  return {
    async write(chunk) {
      while (slot !== undefined && error === undefined) await changes.next();
      if (error !== undefined) throw error;
      slot = chunk;
      changes.notify();
    },
    end() {
      ended = true;
      changes.notify();
    },
    async read() {
      for (;;) {
        if (error !== undefined) throw error;
        if (slot !== undefined) {
          const chunk = slot;
          slot = undefined;
          changes.notify();
          return chunk;
        }
        if (ended) return null;
        await changes.next();
      }
    },
    destroy(reason) {
      error ??= reason;
      changes.notify();
    },
  };
}
