/**
 * Path-level NAR conveniences over the real file system: dump a path as a NAR
 * stream, restore a NAR into a new path, index a path for random access.
 *
 * @example
 * ```ts
 * import { dumpPath, restoreNarToPath } from "./nar_path.ts";
 * await restoreNarToPath(dumpPath("/etc/hostname"), "/tmp/hostname-copy");
 * ```
 * @module
 */
import {
  buildNarLayout,
  type ChunkInput,
  type NarLayout,
  narStream,
  readNarRange,
  restoreNar,
  type RestoreNarOptions,
  type RestoreResult,
} from "../nar/mod.ts";
import { denoNarSource } from "./deno_nar_source.ts";
import { type DenoRestoreOptions, denoRestoreTarget } from "./deno_restore_target.ts";

/** Options that only carry a signal. */
export interface SignalOptions {
  /** Stops the operation with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * The NAR of a file-system path as a stream (`nix-store --dump PATH`).
 *
 * @example
 * ```ts
 * import { dumpPath } from "./nar_path.ts";
 * await dumpPath("/etc/hostname").pipeTo(Deno.stdout.writable);
 * ```
 */
export function dumpPath(path: string, options: SignalOptions = {}): ReadableStream<Uint8Array> {
  return narStream(denoNarSource(), path, options);
}

/**
 * Restores a NAR into `dest` (which must not exist) exactly as Guix does; on
 * any failure nothing is left at `dest`.
 *
 * @example
 * ```ts
 * import { restoreNarToPath } from "./nar_path.ts";
 * const { size } = await restoreNarToPath(Deno.stdin.readable, "/tmp/restored");
 * ```
 */
export function restoreNarToPath(
  input: ChunkInput,
  dest: string,
  options: RestoreNarOptions & DenoRestoreOptions = {},
): Promise<RestoreResult> {
  return restoreNar(input, denoRestoreTarget(dest, options), options);
}

/**
 * Indexes the NAR of a file-system path for random access (see
 * {@linkcode readNarRangeOfPath}).
 *
 * @example
 * ```ts
 * import { narLayoutOfPath } from "./nar_path.ts";
 * const layout = await narLayoutOfPath("/etc");
 * layout.size; // the NarSize of /etc
 * ```
 */
export function narLayoutOfPath(path: string, options: SignalOptions = {}): Promise<NarLayout> {
  return buildNarLayout(denoNarSource(), path, options);
}

/**
 * NAR bytes `[offset, offset + length)` of the file-system tree indexed by `layout`.
 *
 * @example
 * ```ts
 * import { narLayoutOfPath, readNarRangeOfPath } from "./nar_path.ts";
 * const layout = await narLayoutOfPath("/etc/hostname");
 * const head = await readNarRangeOfPath(layout, 0, 64);
 * ```
 */
export function readNarRangeOfPath(
  layout: NarLayout,
  offset: number,
  length: number,
  options: SignalOptions = {},
): Promise<Uint8Array> {
  return readNarRange(layout, denoNarSource(), offset, length, options);
}
