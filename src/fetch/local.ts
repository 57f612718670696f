/**
 * NARs this node holds and has verified against their NarHash (downloads
 * kept in the P2P block cache): what the gateway serves directly, whatever
 * the policy, without knowing how the P2P layer stores them.
 *
 * @example
 * ```ts
 * import type { LocalNars } from "./local.ts";
 * const none: LocalNars = { verified: () => undefined };
 * ```
 * @module
 */

/** One verified NAR held locally. */
export interface LocalNar {
  readonly narSize: number;
  /** Reads NAR bytes `[offset, offset + length)`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Keeps it from being evicted until the returned function is called. */
  pin(): () => void;
}

/** Verified NARs held locally, by NarHash digest. */
export interface LocalNars {
  /** The complete, verified NAR of `narHash`, if held. */
  verified(narHash: Uint8Array): LocalNar | undefined;
}
