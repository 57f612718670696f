/**
 * `guix-p2p nar dump PATH`, `nar restore DEST` and `nar hash PATH`: the NAR
 * tools of `nix-store --dump` / `nix-store --restore` / `guix hash -S nar`.
 *
 * @example
 * ```sh
 * guix-p2p nar dump /gnu/store/...-hello > hello.nar
 * guix-p2p nar restore /tmp/hello < hello.nar
 * guix-p2p nar hash --size /tmp/hello     # sha256:<nix32> <NarSize>
 * ```
 * @module
 */
import { formatNarHash } from "../hash/nar_hash.ts";
import { dumpPath, hashPath, restoreNarToPath } from "../fs/mod.ts";
import { NarFormatError, NarRestoreError, NarSourceError } from "../nar/mod.ts";
import { parseFlags, UsageError } from "../std/cli.ts";
import { type CliIo, type Command, pickSubcommand } from "./command.ts";

const DUMP_USAGE = `usage: guix-p2p nar dump PATH

Write the NAR serialisation of PATH (a file, directory or symlink) to standard
output, like "nix-store --dump PATH". Sockets, FIFOs and devices are refused.`;

const RESTORE_USAGE = `usage: guix-p2p nar restore DEST [--max-size BYTES] [--no-worker]

Read a NAR from standard input and restore it at DEST, which must not exist,
exactly as Guix does: files 0444 (0555 if executable), directories 0555,
timestamps 1970-01-01T00:00:01Z. The NAR is checked strictly (entry names,
order, padding, lengths, depth); if it is rejected or anything fails, nothing
is left at DEST, the error goes to standard error and the exit status is 1.

  --max-size BYTES   reject NARs longer than BYTES (e.g. the expected NarSize)
  --no-worker        create every file in the main thread (by default a worker
                     thread takes part of the work once there are many files)`;

const HASH_USAGE = `usage: guix-p2p nar hash PATH [--size]

Print the NAR hash of PATH as sha256:<nix32>, like "guix hash -S nar PATH" or
"nix hash path --base32 --type sha256 PATH" with a "sha256:" prefix.

  --size   also print the NarSize after the hash: "sha256:<nix32> <bytes>"`;

const USAGE = `usage: guix-p2p nar dump PATH
       guix-p2p nar restore DEST [--max-size BYTES] [--no-worker]
       guix-p2p nar hash PATH [--size]

dump     write the NAR of PATH to standard output
restore  restore a NAR read from standard input into DEST (must not exist)
hash     print the NAR hash (sha256:<nix32>) of PATH

Run "guix-p2p nar SUBCOMMAND --help" for details.`;

/**
 * The `nar` command.
 *
 * @example
 * ```ts
 * import { narCommand } from "./nar.ts";
 * import { denoIo } from "../std/io.ts";
 * const status = await narCommand.run(["hash", "/etc/hostname"], denoIo());
 * ```
 */
export const narCommand: Command = {
  name: "nar",
  summary: "dump, restore or hash NAR archives",
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const picked = pickSubcommand(args, io, {
      name: "nar",
      usage: USAGE,
      subcommands: { dump: DUMP_USAGE, restore: RESTORE_USAGE, hash: HASH_USAGE },
    });
    if (typeof picked === "number") return picked;
    const { sub, args: rest } = picked;
    try {
      if (sub === "dump") return await dump(rest, io);
      if (sub === "restore") return await restore(rest, io);
      return await hash(rest, io);
    } catch (e) {
      if (
        e instanceof NarFormatError || e instanceof NarRestoreError || e instanceof NarSourceError
      ) {
        io.err(`guix-p2p: nar ${sub}: ${e.message}`);
        return 1;
      }
      throw e;
    }
  },
};

function onePath(args: string[], what: string, sub: string): string {
  if (args.length !== 1) {
    throw new UsageError(`nar ${sub} takes exactly one ${what}, got ${args.length}`);
  }
  return args[0]!;
}

async function dump(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags(args, {});
  const path = onePath(positionals, "PATH", "dump");
  await dumpPath(path).pipeTo(io.stdout, { preventClose: true });
  return 0;
}

async function restore(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    string: ["max-size"],
    boolean: ["no-worker"],
  });
  const dest = onePath(positionals, "DEST", "restore");
  let maxSize: number | undefined;
  if (flags["max-size"] !== undefined) {
    maxSize = Number(flags["max-size"]);
    if (!/^\d+$/.test(flags["max-size"]) || !Number.isSafeInteger(maxSize)) {
      throw new UsageError(`--max-size: expected a number of bytes, got "${flags["max-size"]}"`);
    }
  }
  await restoreNarToPath(io.stdin, dest, {
    maxSize,
    workerThreshold: flags["no-worker"] ? Infinity : undefined,
  });
  return 0;
}

async function hash(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags(args, { boolean: ["size"] });
  const path = onePath(positionals, "PATH", "hash");
  const { digest, size } = await hashPath(path);
  io.out(flags.size ? `${formatNarHash(digest)} ${size}` : formatNarHash(digest));
  return 0;
}
