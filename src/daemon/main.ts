/**
 * The daemon entry point (work in progress: see issue 3).
 * @module
 */
import type { CliIo } from "../cli/command.ts";

/** Runs the daemon; resolves to the exit status. */
export function daemonMain(_args: string[], io: CliIo): Promise<number> {
  io.err("guix-p2p: the daemon is not built yet");
  return Promise.resolve(1);
}
