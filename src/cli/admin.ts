/**
 * `guix-p2p status`, `peers`, `seeds`, `unseed PATH|HASH…` (`seed` is in seed.ts):
 * ask the running daemon over its control socket; `--json` prints the raw
 * answer.
 *
 * @example
 * ```sh
 * guix-p2p status --json
 * guix-p2p seed /gnu/store/…-hello-2.12.2
 * ```
 * @module
 */
import { UsageError } from "../std/cli.ts";
import type { NatStatus } from "../p2p/nat/mod.ts";
import { adminRequest, humanBytes } from "./_daemon.ts";
import type { CliIo, Command } from "./command.ts";

const COMMON = `Options: --json (machine-readable), --config FILE, --socket PATH.`;

function command(
  name: "status" | "peers" | "seeds" | "unseed",
  summary: string,
  usage: string,
  print: (value: unknown, io: CliIo) => number,
  takesArgs = false,
): Command {
  return {
    name,
    summary,
    usage: `usage: guix-p2p ${usage}\n\n${summary}.\n${COMMON}`,
    async run(args: string[], io: CliIo): Promise<number> {
      if (args.includes("--help") || args.includes("-h")) {
        io.out(this.usage);
        return 0;
      }
      const { value, json, positionals } = await adminRequest(name, args, io, {
        positionals: takesArgs,
      });
      if (takesArgs && positionals.length === 0) {
        throw new UsageError(`${name} needs at least one argument`);
      }
      if (json) {
        io.out(JSON.stringify(value, null, 2));
        return Array.isArray(value) && value.some((v) => (v as { ok?: boolean }).ok === false)
          ? 1
          : 0;
      }
      return print(value, io);
    },
  };
}

type Obj = Record<string, unknown>;

/** The `nat` lines of `status` (docs/protocol.md, NAT traversal). */
function natLines(n: NatStatus): string[] {
  const reservations = n.relayClient.reservations.map((r) => r.relay);
  const service = n.relayService;
  return [
    `reachability: ${n.reachability}${
      n.publicAddresses.length ? ` at ${n.publicAddresses.join(" ")}` : ""
    } (AutoNAT ${n.autonat ? "on" : "off"})`,
    `relay reservations: ${reservations.join(" ") || "none"} (relay client ${n.relayClient.mode})`,
    `relay service: ${
      service.enabled
        ? `on, ${service.reservations}/${service.maxReservations} reservation(s)`
        : "off"
    }; hole punching: ${
      n.holePunching.enabled ? `on, ${n.holePunching.directUpgrades} direct upgrade(s)` : "off"
    }; UPnP: ${n.upnp.state}${n.upnp.addresses.length ? ` ${n.upnp.addresses.join(" ")}` : ""}`,
    `block bytes received: ${humanBytes(n.bytesIn.direct)} direct, ${
      humanBytes(n.bytesIn.relayed)
    } through relays`,
  ];
}

/** `guix-p2p status`. */
export const statusCommand: Command = command(
  "status",
  "show the daemon's state",
  "status [--json]",
  (v, io) => {
    const s = v as Obj;
    const p = (s.p2p ?? {}) as Obj;
    io.out(`guix-p2p ${s.version} (pid ${s.pid}, up ${s.uptimeSeconds} s), policy ${s.policy}`);
    io.out(`store ${s.storeDir}, socket ${s.socket}`);
    io.out(`substitute URLs: ${(s.substituteUrls as string[]).join(" ")}`);
    if (p.peerId) {
      io.out(
        `peer id ${p.peerId}, DHT ${p.dhtMode} with ${p.dhtPeers} peer(s), ${p.connections} connection(s)`,
      );
      io.out(`listening on ${(p.listen as string[]).join(" ") || "nothing"}`);
      io.out(
        `shareable addresses: ${(p.shareable as string[]).join(" ") || "none (loopback only)"}`,
      );
      io.out(
        `seeds: ${p.seeds}${p.indexing ? ` (${p.indexing} item(s) waiting to be indexed)` : ""}${
          p.announcing ? `, ${p.announcing} announcement(s) waiting` : ""
        }, block cache: ${humanBytes(p.cacheBytes as number)}`,
      );
      if (p.nat) { for (const line of natLines(p.nat as NatStatus)) io.out(line); }
      for (const d of (p.downloads as Obj[])) {
        io.out(
          `downloading ${d.narHash}: ${d.have}/${d.blocks} blocks from ${
            (d.peers as string[]).length
          } peer(s)`,
        );
      }
    }
    for (const t of (s.activeTransfers as Obj[])) {
      io.out(
        `transfer ${t.storePath}: ${humanBytes(t.bytes as number)} of ${
          humanBytes(t.narSize as number)
        }`,
      );
    }
    return 0;
  },
);

/** `guix-p2p peers`. */
export const peersCommand: Command = command(
  "peers",
  "list connected and known peers",
  "peers [--json]",
  (v, io) => {
    const peers = v as Obj[];
    if (peers.length === 0) io.out("no peers");
    for (const p of peers) {
      io.out(
        `${p.connected ? "*" : " "} ${p.peerId}  ${p.agent ?? "?"}  ${p.latencyMs ?? "?"} ms  up ${
          humanBytes(p.bytesUp as number)
        } down ${humanBytes(p.bytesDown as number)}  score ${p.score}${p.banned ? "  BANNED" : ""}`,
      );
      for (const a of (p.addresses as string[]).slice(0, 3)) io.out(`    ${a}`);
    }
    return 0;
  },
);

/** `guix-p2p seeds`. */
export const seedsCommand: Command = command(
  "seeds",
  "list what this node seeds",
  "seeds [--json]",
  (v, io) => {
    const seeds = v as Obj[];
    if (seeds.length === 0) io.out("nothing seeded");
    for (const s of seeds) {
      io.out(
        `${s.storePath ?? "(no store path)"}  ${s.narHash}  ${
          humanBytes(s.narSize as number)
        }  ${s.kind}/${s.origin}`,
      );
    }
    return 0;
  },
);

/** `guix-p2p unseed PATH|HASH…`. */
export const unseedCommand: Command = command(
  "unseed",
  "stop seeding items",
  "unseed PATH|HASH... [--json]",
  (v, io) => {
    let status = 0;
    for (const r of v as Obj[]) {
      if (r.removed) io.out(`no longer seeding ${r.target}`);
      else {
        io.err(`guix-p2p: ${r.target} was not seeded`);
        status = 1;
      }
    }
    return status;
  },
  true,
);
