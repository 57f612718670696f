/**
 * Shared by the CLI commands that talk to the running daemon: flag parsing
 * (`--config`, `--socket`, `--json`), connecting, and one admin request.
 * @module
 */
import { CONFIG_FLAG_NAMES, overridesFromFlags } from "../config/mod.ts";
import { ControlClient } from "../control/client.ts";
import type { AdminCommand } from "../control/messages.ts";
import { parseFlags } from "../std/cli.ts";
import type { CliIo } from "./command.ts";
import { describeCandidate, locateDaemon, type LocatedDaemon, noDaemonError } from "./_locate.ts";

/**
 * Finds the daemon (see `_locate.ts`) and connects to it; when the socket
 * was searched for rather than named, says on stderr which daemon answered.
 * @throws {ControlConnectionError} naming every socket tried.
 */
export async function connectDaemon(
  flags: { config?: string | undefined } & Record<string, unknown>,
  io: CliIo,
): Promise<{ client: ControlClient; located: LocatedDaemon }> {
  const located = await locateDaemon({
    configFlag: flags.config,
    overrides: overridesFromFlags(flags as Record<string, string | string[] | undefined>),
    env: io.env,
  });
  if (!located.connection) throw noDaemonError(located);
  if (located.candidate.origin !== "explicit") {
    io.err(`guix-p2p: using the daemon at ${describeCandidate(located.candidate)}`);
  }
  const client = new ControlClient(located.connection, { stallTimeoutMs: 600_000 });
  return { client, located };
}

/** Parses the common flags and runs `command` on the daemon. */
export async function adminRequest(
  command: AdminCommand,
  args: string[],
  io: CliIo,
  options: { positionals?: boolean } = {},
): Promise<{ value: unknown; json: boolean; positionals: string[] }> {
  const { flags, positionals } = parseFlags(args, {
    boolean: ["json"],
    string: ["config", ...CONFIG_FLAG_NAMES],
    collect: ["set"],
    positionals: options.positionals ?? false,
  });
  const { client } = await connectDaemon(flags, io);
  using _ = client;
  const value = await client.admin(command, positionals);
  return { value, json: flags.json, positionals };
}

/** Formats bytes for people. */
export function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}
