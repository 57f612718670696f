/**
 * The program version (kept equal to deno.json's "version" by a test).
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(`guix-p2p ${VERSION}`);
 * ```
 * @module
 */

/** guix-p2p's version. */
export const VERSION = "0.1.0";
