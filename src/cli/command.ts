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
import type { CliIo } from "../std/io.ts";

export type { CliIo };

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
