/**
 * `guix-p2p config check [FILE] [--json]` and `guix-p2p config init [FILE]`.
 *
 * @example
 * ```sh
 * guix-p2p config init            # writes ~/.config/guix-p2p/config.toml, never overwrites
 * guix-p2p config check --json    # prints the effective configuration
 * ```
 * @module
 */
import { dirname } from "node:path";
import { parseFlags, UsageError } from "../std/cli.ts";
import {
  CONFIG_FLAG_NAMES,
  ConfigError,
  configToJson,
  configToToml,
  defaultConfigPath,
  loadConfig,
  overridesFromFlags,
  starterFile,
} from "../config/mod.ts";
import { type CliIo, type Command, pickSubcommand } from "./command.ts";
import { migrateConfigText } from "./_migrate.ts";

const USAGE = `usage: guix-p2p config check [FILE] [--json] [--set KEY=VALUE]... [flags]
       guix-p2p config init [FILE]
       guix-p2p config migrate FILE [--output NEW]

check  Validate the configuration (FILE, else --config, $GUIX_P2P_CONFIG or
       ~/.config/guix-p2p/config.toml) and print the effective values as TOML,
       or JSON with --json. Exits 0 when valid; otherwise prints the error
       (file, line, key) and exits 1.
init   Write a commented starter file (default: the per-user path). Refuses to
       overwrite an existing file.
migrate
       Rewrite a configuration of the original guix-p2p (listen_addr,
       substitute_policy, auto_seed_downloads, comma-separated lists, KiB/s
       rates, ...) in this guix-p2p's keys, each with a comment saying what it
       was; keys without an equivalent are listed as comments. Prints the new
       file, or writes NEW (never overwriting). Exits 1 if the result is not
       a valid configuration. (The daemon also reads the original keys, with
       a warning naming the new ones.)

Keys and defaults: docs/configuration.md.`;

/** The `config` command. */
export const configCommand: Command = {
  name: "config",
  summary: "check or create the configuration file",
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const picked = pickSubcommand(args, io, {
      name: "config",
      usage: USAGE,
      subcommands: { check: USAGE, init: USAGE, migrate: USAGE },
    });
    if (typeof picked === "number") return picked;
    if (picked.sub === "migrate") return await migrate(picked.args, io);
    return picked.sub === "check" ? await check(picked.args, io) : await init(picked.args, io);
  },
};

async function check(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    boolean: ["json"],
    string: ["config", ...CONFIG_FLAG_NAMES],
    collect: ["set"],
  });
  if (positionals.length > 1) throw new UsageError(`config check takes at most one FILE`);
  const configPath = positionals[0] ?? flags.config;
  try {
    const { config, file, warnings } = await loadConfig({
      configPath,
      overrides: overridesFromFlags(flags as Record<string, string | string[] | undefined>),
      env: io.env,
    });
    for (const w of warnings) io.err(`guix-p2p: warning: ${w}`);
    if (flags.json) io.out(configToJson(config));
    else {
      io.out(`# effective configuration (${file ? `from ${file}` : "no config file: defaults"})`);
      io.out(configToToml(config).trimEnd());
    }
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`guix-p2p: invalid configuration: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

async function init(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags(args, {});
  if (positionals.length > 1) throw new UsageError(`config init takes at most one FILE`);
  const path = positionals[0] ?? defaultConfigPath(io.env);
  await Deno.mkdir(dirname(path), { recursive: true });
  try {
    const file = await Deno.open(path, { write: true, createNew: true, mode: 0o644 });
    try {
      await file.write(new TextEncoder().encode(starterFile()));
    } finally {
      file.close();
    }
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      io.err(`guix-p2p: ${path} already exists; not overwriting it`);
      return 1;
    }
    throw e;
  }
  io.out(`wrote ${path}`);
  return 0;
}

async function migrate(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags(args, { string: ["output"] });
  if (positionals.length !== 1) throw new UsageError(`config migrate takes one FILE`);
  const path = positionals[0]!;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    io.err(`guix-p2p: cannot read ${path}: ${(e as Error).message}`);
    return 1;
  }
  let result;
  try {
    result = migrateConfigText(path, text, io.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`guix-p2p: cannot migrate: ${e.message}`);
      return 1;
    }
    throw e;
  }
  for (const w of result.warnings) io.err(`guix-p2p: ${w}`);
  if (flags.output === undefined || flags.output === "-") {
    io.out(result.text.trimEnd());
    return 0;
  }
  try {
    const file = await Deno.open(flags.output, { write: true, createNew: true, mode: 0o644 });
    try {
      await file.write(new TextEncoder().encode(result.text));
    } finally {
      file.close();
    }
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      io.err(`guix-p2p: ${flags.output} already exists; not overwriting it`);
      return 1;
    }
    throw e;
  }
  io.out(`wrote ${flags.output}`);
  return 0;
}
