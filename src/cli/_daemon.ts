/**
 * Shared by the CLI commands that talk to the running daemon: flag parsing
 * (`--config`, `--socket`, `--json`), connecting, and one admin request.
 * @module
 */
import { CONFIG_FLAG_NAMES, loadConfig, overridesFromFlags } from "../config/mod.ts";
import { ControlClient } from "../control/client.ts";
import { connectControlSocket } from "../control/deno_socket.ts";
import type { AdminCommand } from "../control/messages.ts";
import { parseFlags } from "../std/cli.ts";
import type { CliIo } from "./command.ts";

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
  const { config } = await loadConfig({
    configPath: flags.config,
    overrides: overridesFromFlags(flags as Record<string, string | string[] | undefined>),
    env: io.env,
  });
  using client = new ControlClient(await connectControlSocket(config.socket_path), {
    stallTimeoutMs: 600_000,
  });
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
