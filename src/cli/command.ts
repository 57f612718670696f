/**
 * The shape of an admin CLI command and the I/O it is given.
 *
 * @example
 * ```ts
 * import type { Command } from "./command.ts";
 * export const hello: Command = {
 *   name: "hello",
 *   summary: "print a greeting",
 *   usage: "guix-p2p hello",
 *   async run(_args, io) {
 *     io.out("hello");
 *     return 0;
 *   },
 * };
 * ```
 * @module
 */

/** Standard streams and environment as seen by a command (replaceable in tests). */
export interface CliIo {
  /** Writes a line (newline appended) to standard output. */
  out(line: string): void;
  /** Writes a line (newline appended) to standard error. */
  err(line: string): void;
  /** Raw standard output, for binary data (e.g. `nar dump`). */
  stdout: WritableStream<Uint8Array>;
  /** Raw standard input. */
  stdin: ReadableStream<Uint8Array>;
  /** Environment lookup. */
  env: { get(name: string): string | undefined };
  /**
   * Redraws a one-line progress display on standard error; present only when
   * standard error is a terminal (commands print nothing in between otherwise).
   */
  progress?: (line: string) => void;
}

/** One admin CLI command (possibly with subcommands). */
export interface Command {
  /** The word after `guix-p2p`, e.g. `nar`. */
  name: string;
  /** One-line description for `guix-p2p --help`. */
  summary: string;
  /** Full help text printed by `guix-p2p NAME --help`. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit status. */
  run(args: string[], io: CliIo): Promise<number>;
}
