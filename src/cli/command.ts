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
import { UsageError } from "../std/cli.ts";
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

/**
 * The prologue of a command made of subcommands (`guix-p2p nar dump|restore|hash`):
 * no argument prints `usage` (status 2), `--help` or `-h` prints it (status 0),
 * `SUB --help` prints the subcommand's usage (status 0), an unknown subcommand
 * is a {@linkcode UsageError} naming the known ones. Returns the subcommand and
 * its arguments, or the exit status when the prologue answered.
 *
 * @example
 * ```ts
 * import { pickSubcommand } from "./command.ts";
 * import { denoIo } from "../std/io.ts";
 * const picked = pickSubcommand(["hash", "/etc"], denoIo(), {
 *   name: "nar",
 *   usage: "usage: guix-p2p nar dump|hash PATH",
 *   subcommands: { dump: "usage: guix-p2p nar dump PATH", hash: "usage: guix-p2p nar hash PATH" },
 * });
 * if (typeof picked !== "number") console.log(picked.sub, picked.args); // hash ["/etc"]
 * ```
 */
export function pickSubcommand(
  args: readonly string[],
  io: CliIo,
  command: {
    name: string;
    usage: string;
    /** Subcommand → its usage text (the command's own when it has none of its own). */
    subcommands: Record<string, string>;
  },
): { sub: string; args: string[] } | number {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    io.out(command.usage);
    return sub === undefined ? 2 : 0;
  }
  const usage = Object.hasOwn(command.subcommands, sub) ? command.subcommands[sub] : undefined;
  if (usage === undefined) {
    const names = Object.keys(command.subcommands);
    const expected = names.length > 1
      ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`
      : names.join("");
    throw new UsageError(`unknown subcommand "${command.name} ${sub}" (expected ${expected})`);
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(usage);
    return 0;
  }
  return { sub, args: rest };
}
