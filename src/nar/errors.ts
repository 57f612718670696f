/**
 * Errors of NAR writing, parsing and restoring.
 *
 * @example
 * ```ts
 * import { NarFormatError } from "./errors.ts";
 * try {
 *   throw new NarFormatError("bad magic", { offset: 0, path: "" });
 * } catch (e) {
 *   if (e instanceof NarFormatError) console.log(e.offset, e.path);
 * }
 * ```
 * @module
 */

/** Where a {@linkcode NarFormatError} was found. */
export interface NarFormatLocation {
  /** Byte offset in the NAR of the offending token, length or byte. */
  offset: number;
  /** Path inside the archive (`""` is the root, `bin/hello` an entry). */
  path: string;
}

/**
 * The NAR bytes are broken or hostile: wrong magic, unknown token, bad padding,
 * bad or unordered entry name, absurd length, truncation, trailing garbage...
 * The message names the byte offset, the path inside the archive and the
 * offending value.
 *
 * @example
 * ```ts
 * import { NarFormatError } from "./errors.ts";
 * const e = new NarFormatError('unknown token "fifo"', { offset: 96, path: "bin" });
 * e.message; // 'invalid NAR at offset 96 (entry "bin"): unknown token "fifo"'
 * ```
 */
export class NarFormatError extends Error {
  /** Byte offset in the NAR where the problem was found. */
  readonly offset: number;
  /** Path inside the archive (`""` is the root). */
  readonly path: string;

  /** Creates the error; `detail` says what was wrong and the offending value. */
  constructor(detail: string, where: NarFormatLocation) {
    super(`invalid NAR at offset ${where.offset} (${describeNarPath(where.path)}): ${detail}`);
    this.name = "NarFormatError";
    this.offset = where.offset;
    this.path = where.path;
  }
}

/**
 * A tree cannot be serialised: unsupported file type (socket, FIFO, device),
 * a name that is not valid UTF-8, a file that shrank while being read, an I/O
 * error. The message names the path.
 *
 * @example
 * ```ts
 * import { NarSourceError } from "./errors.ts";
 * new NarSourceError("unsupported file type (socket)", "/tmp/x/sock").path; // "/tmp/x/sock"
 * ```
 */
export class NarSourceError extends Error {
  /** The offending path (as given to the source). */
  readonly path: string;

  /** Creates the error; `detail` says what is wrong with `path`. */
  constructor(detail: string, path: string, options?: ErrorOptions) {
    super(`cannot serialise "${path}" as NAR: ${detail}`, options);
    this.name = "NarSourceError";
    this.path = path;
  }
}

/**
 * Restoring into the file system failed: the destination already exists, an
 * entry could not be created, an I/O error. The message names the path.
 *
 * @example
 * ```ts
 * import { NarRestoreError } from "./errors.ts";
 * new NarRestoreError("the destination already exists", "/gnu/store/x").message;
 * ```
 */
export class NarRestoreError extends Error {
  /** The file-system path involved. */
  readonly path: string;

  /** Creates the error; `detail` says what failed at `path`. */
  constructor(detail: string, path: string, options?: ErrorOptions) {
    super(`cannot restore NAR to "${path}": ${detail}`, options);
    this.name = "NarRestoreError";
    this.path = path;
  }
}

/**
 * How error messages show a path inside an archive.
 *
 * @example
 * ```ts
 * import { describeNarPath } from "./errors.ts";
 * describeNarPath(""); // "archive root"
 * describeNarPath("bin/hello"); // 'entry "bin/hello"'
 * ```
 */
export function describeNarPath(path: string): string {
  return path === "" ? "archive root" : `entry ${JSON.stringify(path)}`;
}
