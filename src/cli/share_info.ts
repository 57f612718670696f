/**
 * `guix-p2p share-info [--json]`: asks the running daemon for its peer id and
 * addresses and prints what a neighbour pastes to use this node as a
 * bootstrap peer — a `bootstrap_peers = [...]` line for config.toml and a
 * `(bootstrap-peers '(...))` field for the Guix System service. Exits 0 when
 * there is something to share, 1 otherwise (no shareable address, or no
 * daemon), naming the reason.
 *
 * @example
 * ```sh
 * guix-p2p share-info
 * guix-p2p share-info --json | jq -r .toml
 * ```
 * @module
 */
import { ControlConnectionError } from "../control/errors.ts";
import { formatShareInfo, type ShareInfo, shareInfo } from "../p2p/share_info.ts";
import { adminRequest } from "./_daemon.ts";
import type { CliIo, Command } from "./command.ts";

const USAGE = `usage: guix-p2p share-info [--json] [--config FILE] [--socket PATH]

Prints the lines a neighbour needs to use this node as a bootstrap peer: the
node's shareable addresses (not loopback, not unspecified, each ending in
/p2p/<peer id>), a bootstrap_peers line for config.toml and a bootstrap-peers
field for the Guix System service. Asks the running daemon.
Exit status: 0 when shareable; 1 when there is no shareable address or no daemon.`;

type Obj = Record<string, unknown>;

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** Share information from the daemon's `status` answer. */
export function shareInfoFromStatus(status: unknown): ShareInfo {
  const p2p = ((status as Obj | null)?.p2p ?? null) as Obj | null;
  const peerId = typeof p2p?.peerId === "string" ? p2p.peerId : null;
  return shareInfo({ peerId, addresses: strings(p2p?.listen) });
}

/** `guix-p2p share-info`. */
export const shareInfoCommand: Command = {
  name: "share-info",
  summary: "print the bootstrap lines a neighbour needs",
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    if (args.includes("--help") || args.includes("-h")) {
      io.out(USAGE);
      return 0;
    }
    let info: ShareInfo;
    const json = args.includes("--json");
    try {
      const { value } = await adminRequest("status", args, io);
      info = shareInfoFromStatus(value);
    } catch (e) {
      if (!(e instanceof ControlConnectionError)) throw e;
      info = { ...shareInfo(undefined), detail: e.message };
    }
    if (json) io.out(JSON.stringify(info, null, 2));
    else for (const line of formatShareInfo(info)) io.out(line);
    return info.state === "shareable" ? 0 : 1;
  },
};
