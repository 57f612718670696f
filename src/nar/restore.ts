/**
 * NAR restorer: parses a NAR strictly and drives a {@linkcode RestoreTarget}
 * (the file system through `src/fs/deno_restore_target.ts`, or anything else). On any failure —
 * a format error, a target error, an abort — the target is told to remove
 * everything it created, and the original error is rethrown.
 *
 * @example
 * ```ts
 * import { restoreNar, type RestoreTarget } from "./restore.ts";
 * declare const nar: ReadableStream<Uint8Array>;
 * const seen: string[] = [];
 * const target: RestoreTarget = {
 *   directory: (path) => void seen.push(`${path}/`),
 *   file: (path) => ({ write() {}, finish: () => void seen.push(path) }),
 *   symlink: (path, target) => void seen.push(`${path} -> ${target}`),
 *   directoryEnd() {},
 *   abort() {},
 * };
 * const { size } = await restoreNar(nar, target);
 * ```
 * @module
 */
import { Sha256 } from "../hash/sha256.ts";
import { type ChunkInput, parseNar } from "./parser.ts";
import type { MaybePromise } from "./source.ts";

const EMPTY = new Uint8Array(0);

/** A regular file being written by a {@linkcode RestoreTarget}. */
export interface RestoreFile {
  /** Appends bytes. The array is only valid during the call: copy it to keep it. */
  write(chunk: Uint8Array): MaybePromise<void>;
  /** All bytes written: set the final metadata and release the file. */
  finish(): MaybePromise<void>;
}

/**
 * Where a NAR is restored. Paths are relative, `/`-separated, `""` is the
 * root; names were validated by the parser (no `/`, `.`, `..`, NUL).
 */
export interface RestoreTarget {
  /** Creates directory `path` (it must not exist). */
  directory(path: string): MaybePromise<void>;
  /** Creates regular file `path` of `size` bytes (it must not exist). */
  file(path: string, executable: boolean, size: number): MaybePromise<RestoreFile>;
  /**
   * Optional fast path: creates regular file `path` with all of its
   * `contents` at once (used when they arrive in one piece).
   */
  smallFile?(path: string, executable: boolean, contents: Uint8Array): MaybePromise<void>;
  /** Creates symlink `path` pointing to `target` (never followed). */
  symlink(path: string, target: string): MaybePromise<void>;
  /** All entries of directory `path` are in place. */
  directoryEnd(path: string): MaybePromise<void>;
  /** The whole tree is in place. */
  commit?(): MaybePromise<void>;
  /** Something failed: remove everything created so far (called at most once). */
  abort(reason: unknown): MaybePromise<void>;
}

/** Options of {@linkcode restoreNar}. */
export interface RestoreNarOptions {
  /** Stops the restore (and removes the partial tree) with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** The expected NarSize: more input, or a file that cannot fit, is rejected. */
  maxSize?: number | undefined;
  /** Deepest allowed nesting below the root. Default 256. */
  maxDepth?: number | undefined;
  /** Also compute the SHA-256 of the NAR bytes (to compare with the NarHash). */
  hash?: boolean | undefined;
}

/** What a successful restore read. */
export interface RestoreResult {
  /** NarSize: number of NAR bytes consumed. */
  size: number;
  /** SHA-256 of the NAR when `hash` was requested, else `undefined`. */
  digest: Uint8Array | undefined;
}

/**
 * Restores the NAR read from `input` into `target`.
 * @throws {NarFormatError} when the NAR is broken or hostile (after the target was cleaned up).
 * @throws {NarRestoreError} (from the target) when an entry cannot be created.
 *
 * @example
 * ```ts
 * import { restoreNar } from "./restore.ts";
 * import { denoRestoreTarget } from "../fs/deno_restore_target.ts";
 * declare const nar: ReadableStream<Uint8Array>;
 * const { size, digest } = await restoreNar(nar, denoRestoreTarget("/tmp/x"), { hash: true });
 * ```
 */
export async function restoreNar(
  input: ChunkInput,
  target: RestoreTarget,
  options: RestoreNarOptions = {},
): Promise<RestoreResult> {
  const signal = options.signal;
  const hasher = options.hash ? new Sha256() : undefined;
  let size = 0;
  const onChunk = (chunk: Uint8Array) => {
    size += chunk.length;
    hasher?.update(chunk);
  };
  try {
    signal?.throwIfAborted();
    const events = parseNar(input, {
      signal,
      maxSize: options.maxSize,
      maxDepth: options.maxDepth,
      onChunk,
    });
    for await (const event of events) {
      if (signal?.aborted) signal.throwIfAborted();
      switch (event.kind) {
        case "directory": {
          const r = target.directory(event.path);
          if (r) await r;
          break;
        }
        case "directory-end": {
          const r = target.directoryEnd(event.path);
          if (r) await r;
          break;
        }
        case "symlink": {
          const r = target.symlink(event.path, event.target);
          if (r) await r;
          break;
        }
        case "regular": {
          const chunks = event.contents[Symbol.asyncIterator]();
          let first: Uint8Array = EMPTY;
          if (event.size > 0) {
            const next = await chunks.next();
            if (!next.done) first = next.value;
          }
          if (target.smallFile && first.length === event.size) {
            const r = target.smallFile(event.path, event.executable, first);
            if (r) await r;
            break;
          }
          const opened = target.file(event.path, event.executable, event.size);
          const file = opened instanceof Promise ? await opened : opened;
          let w = file.write(first);
          if (w) await w;
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
            w = file.write(next.value);
            if (w) await w;
          }
          const r = file.finish();
          if (r) await r;
          break;
        }
      }
    }
    signal?.throwIfAborted();
    const r = target.commit?.();
    if (r) await r;
  } catch (e) {
    try {
      await target.abort(e);
    } catch (cleanup) {
      const text = (x: unknown) => (x instanceof Error ? x.message : String(x));
      throw new AggregateError(
        [e, cleanup],
        `${text(e)}; removing the partial tree then failed too: ${text(cleanup)}`,
      );
    }
    throw e;
  }
  return { size, digest: hasher?.digest() };
}
