/**
 * NAR (Nix ARchive) support: writer, strict streaming parser, restorer and
 * random-access layout, over the {@linkcode NarSource} and
 * {@linkcode RestoreTarget} interfaces. Pure: the file-system adapters live in
 * `src/fs/`, an in-memory source here.
 *
 * @example
 * ```ts
 * import { memoryNarSource, narStream, parseNar } from "./mod.ts";
 * const nar = narStream(memoryNarSource({ kind: "symlink", target: "/x" }), "/");
 * for await (const event of parseNar(nar)) console.log(event.kind);
 * ```
 * @module
 */
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
export { DEFAULT_MAX_DEPTH, MAX_NAME_BYTES, MAX_TARGET_BYTES, NAR_MAGIC } from "./_format.ts";
