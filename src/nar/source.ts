/**
 * The read-only view of a file tree that the NAR writer and the layout index
 * walk. The Deno adapter (`src/fs/deno_nar_source.ts`) implements it over the real file
 * system, {@linkcode memoryNarSource} (`memory_source.ts`) over an in-memory
 * tree. Every method may answer synchronously or with a promise.
 *
 * @example
 * ```ts
 * import type { NarSource } from "./source.ts";
 * function countEntries(source: NarSource, dir: string) {
 *   return Promise.resolve(source.readDir(dir)).then((names) => names.length);
 * }
 * ```
 * @module
 */

/** A value or a promise of it: sources and targets may answer synchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** What `lstat` says about one path (symlinks are not followed). */
export type NarSourceStat =
  | {
    kind: "regular";
    /** Size in bytes. */
    size: number;
    /** Owner-execute bit (`0100`) set. */
    executable: boolean;
  }
  | { kind: "directory" }
  | { kind: "symlink" }
  | {
    kind: "unsupported";
    /** What it is, for the error message: `socket`, `FIFO`, `character device`... */
    type: string;
  };

/** An open regular file. */
export interface NarSourceFile {
  /**
   * Reads up to `into.length` bytes starting at byte `position` of the file
   * into `into`; returns how many were read, `0` at end of file.
   */
  read(into: Uint8Array, position: number): MaybePromise<number>;
  /** Releases the file. */
  close(): MaybePromise<void>;
}

/** Read access to a tree. Paths are joined with `/` below the path given to the walker. */
export interface NarSource {
  /** Type, size and executable bit of `path`, not following a final symlink. */
  lstat(path: string): MaybePromise<NarSourceStat>;
  /** Names of the entries of directory `path`, in any order, without `.` and `..`. */
  readDir(path: string): MaybePromise<string[]>;
  /** Target of symlink `path`, verbatim. */
  readLink(path: string): MaybePromise<string>;
  /** Opens regular file `path` for reading. */
  open(path: string): MaybePromise<NarSourceFile>;
}

/**
 * Joins a source path and an entry name with exactly one `/`.
 *
 * @example
 * ```ts
 * import { joinSourcePath } from "./source.ts";
 * joinSourcePath("/tmp/x", "a"); // "/tmp/x/a"
 * joinSourcePath("/", "a"); // "/a"
 * ```
 */
export function joinSourcePath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}
