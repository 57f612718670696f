/**
 * NAR (Nix ARchive) support: writer, strict streaming parser, restorer,
 * random-access layout, and path-level conveniences over the real file system.
 *
 * @example
 * ```ts
 * import { dumpPath, hashPath, restoreNarToPath } from "./mod.ts";
 * import { formatNarHash } from "../hash/nar_hash.ts";
 * const { digest, size } = await hashPath("/etc/hostname");
 * console.log(formatNarHash(digest), size);
 * await restoreNarToPath(dumpPath("/etc/hostname"), "/tmp/hostname-copy", { maxSize: size });
 * ```
 * @module
 */
import { Sha256 } from "../hash/sha256.ts";
import { hashPathImpl } from "./_hash_path.ts";
import { denoNarSource, type DenoRestoreOptions, denoRestoreTarget } from "./deno_fs.ts";
import { buildNarLayout, type NarLayout, readNarRange } from "./layout.ts";
import type { ChunkInput } from "./parser.ts";
import { restoreNar, type RestoreNarOptions, type RestoreResult } from "./restore.ts";
import { narStream } from "./writer.ts";

export { NarFormatError, NarRestoreError, NarSourceError } from "./errors.ts";
export type { NarFormatLocation } from "./errors.ts";
export type { MaybePromise, NarSource, NarSourceFile, NarSourceStat } from "./source.ts";
export { joinSourcePath } from "./source.ts";
export { DEFAULT_CHUNK_SIZE, narStream, writeNar } from "./writer.ts";
export type { WriteNarOptions } from "./writer.ts";
export { parseNar } from "./parser.ts";
export type { ChunkInput, NarEvent, ParseNarOptions } from "./parser.ts";
export { restoreNar } from "./restore.ts";
export type { RestoreFile, RestoreNarOptions, RestoreResult, RestoreTarget } from "./restore.ts";
export { buildNarLayout, readNarRange } from "./layout.ts";
export type { NarLayout, NarLayoutOptions } from "./layout.ts";
export { memoryNarSource, type MemoryNode } from "./memory_source.ts";
export {
  DEFAULT_WORKER_THRESHOLD,
  denoNarSource,
  denoRestoreTarget,
  removeTree,
} from "./deno_fs.ts";
export type { DenoRestoreOptions, DenoRestoreTarget } from "./deno_fs.ts";
export { DEFAULT_MAX_DEPTH, MAX_NAME_BYTES, MAX_TARGET_BYTES, NAR_MAGIC } from "./_format.ts";

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
 * import { dumpPath } from "./mod.ts";
 * await dumpPath("/etc/hostname").pipeTo(Deno.stdout.writable);
 * ```
 */
export function dumpPath(path: string, options: SignalOptions = {}): ReadableStream<Uint8Array> {
  return narStream(denoNarSource(), path, options);
}

/**
 * SHA-256 and size of the NAR of `path` (`nix hash path`), computed without
 * any stream machinery. Once a NAR passes 16 MiB its SHA-256 runs in a worker
 * thread while this one walks and reads (`worker: false`: all in this thread).
 *
 * @example
 * ```ts
 * import { hashPath } from "./mod.ts";
 * import { formatNarHash } from "../hash/nar_hash.ts";
 * const { digest, size } = await hashPath("/etc/hostname");
 * formatNarHash(digest); // "sha256:..."
 * ```
 */
export function hashPath(
  path: string,
  options: SignalOptions & { worker?: boolean | undefined } = {},
): Promise<{ digest: Uint8Array; size: number }> {
  return hashPathImpl(path, options);
}

/**
 * Restores a NAR into `dest` (which must not exist) exactly as Guix does; on
 * any failure nothing is left at `dest`.
 *
 * @example
 * ```ts
 * import { restoreNarToPath } from "./mod.ts";
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
 * import { narLayoutOfPath } from "./mod.ts";
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
 * import { narLayoutOfPath, readNarRangeOfPath } from "./mod.ts";
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

/**
 * NAR hash and size of a path, computed through a stream (for comparison with
 * {@linkcode hashPath} in tests).
 *
 * @example
 * ```ts
 * import { hashNarStream } from "./mod.ts";
 * import { dumpPath } from "./mod.ts";
 * const { size } = await hashNarStream(dumpPath("/etc/hostname"));
 * ```
 */
export async function hashNarStream(
  stream: ReadableStream<Uint8Array>,
): Promise<{ digest: Uint8Array; size: number }> {
  const hash = new Sha256();
  for await (const chunk of stream) hash.update(chunk);
  return { digest: hash.digest(), size: hash.byteLength };
}
