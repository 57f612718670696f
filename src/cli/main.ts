/**
 * The admin CLI: `guix-p2p COMMAND ...`, `--help`, `--version`, and the
 * `--daemon` and `substitute` entry points. Command modules load lazily so
 * that each invocation pays only for what it runs.
 *
 * @example
 * ```ts
 * import { cliMain } from "./main.ts";
 * Deno.exit(await cliMain(["config", "check"]));
 * ```
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { UsageError } from "../std/cli.ts";
import type { CliIo, Command } from "./command.ts";
import { denoIo } from "../std/io.ts";
import { VERSION } from "../version.ts";

interface Entry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** The command registry, in `--help` order. */
const COMMANDS: readonly Entry[] = [
  {
    name: "config",
    summary: "check or create the configuration file",
    load: async () => (await import("./config.ts")).configCommand,
  },
  {
    name: "nar",
    summary: "dump, restore or hash NAR archives",
    load: async () => (await import("./nar.ts")).narCommand,
  },
  {
    name: "narinfo",
    summary: "verify or sign narinfo files",
    load: async () => (await import("./narinfo.ts")).narinfoCommand,
  },
  {
    name: "status",
    summary: "show the daemon's state",
    load: async () => (await import("./admin.ts")).statusCommand,
  },
  {
    name: "peers",
    summary: "list connected and known peers",
    load: async () => (await import("./admin.ts")).peersCommand,
  },
  {
    name: "seeds",
    summary: "list what this node seeds",
    load: async () => (await import("./admin.ts")).seedsCommand,
  },
  {
    name: "seed",
    summary: "seed store items, closures, profiles or the store (never copied)",
    load: async () => (await import("./seed.ts")).seedCommand,
  },
  {
    name: "unseed",
    summary: "stop seeding items",
    load: async () => (await import("./admin.ts")).unseedCommand,
  },
  {
    name: "doctor",
    summary: "check that substitution and sharing work",
    load: async () => (await import("./doctor.ts")).doctorCommand,
  },
  {
    name: "share-info",
    summary: "print the bootstrap lines a neighbour needs",
    load: async () => (await import("./share_info.ts")).shareInfoCommand,
  },
];

const USAGE = `usage: guix-p2p --daemon [--config FILE] [flags]
       guix-p2p COMMAND [ARGS...]
       guix-p2p substitute --query|--substitute   (the substitute helper;
                                                   also run as guix-p2p-substitute)
       guix-p2p --version | --help

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

Run "guix-p2p COMMAND --help" for a command's options.
Configuration keys and defaults: docs/configuration.md.`;

/** Runs the CLI with `args`; resolves to the exit status. */
export async function cliMain(args: string[], io: CliIo = denoIo()): Promise<number> {
  const [first, ...rest] = args;
  try {
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      io.out(USAGE);
      return first === undefined ? 2 : 0;
    }
    if (first === "--version" || first === "-V") {
      io.out(`guix-p2p ${VERSION}`);
      return 0;
    }
    if (
      [
        "--daemon",
        "config",
        "status",
        "peers",
        "seeds",
        "seed",
        "unseed",
        "share-info",
        "doctor",
      ].includes(first)
    ) {
      // The admin CLI and the daemon validate multiaddrs with the libp2p library itself.
      const { useMultiaddrLibrary } = await import("../config/multiaddr_check.ts");
      await useMultiaddrLibrary();
    }
    if (first === "--daemon") {
      const { daemonMain } = await import("../daemon/main.ts");
      return await daemonMain(rest, io);
    }
    if (first === "substitute") {
      const { helperMain } = await import("../helper/main.ts");
      return await helperMain(rest);
    }
    const entry = COMMANDS.find((c) => c.name === first);
    if (!entry) throw new UsageError(`unknown command "${first}"`);
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`guix-p2p: ${e.message}`);
      io.err(`Try "guix-p2p ${first && !first.startsWith("-") ? first + " " : ""}--help".`);
      return 2;
    }
    if (e instanceof ConfigError) {
      io.err(`guix-p2p: invalid configuration: ${e.message}`);
      return 1;
    }
    io.err(`guix-p2p: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
