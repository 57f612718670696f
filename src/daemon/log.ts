/**
 * Daemon log lines on stderr, derived from events (the core never logs).
 *
 * @example
 * ```ts
 * import { attachLogger } from "./log.ts";
 * const detach = attachLogger(daemon.bus, "info", (line) => console.error(line));
 * ```
 * @module
 */
import type { EventBus } from "../events/bus.ts";
import type { DaemonEvents } from "./events.ts";

const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;
/** A log level. */
export type LogLevel = keyof typeof LEVELS;

type Formatter<K extends keyof DaemonEvents> = (e: DaemonEvents[K]) => [LogLevel, string];

const FORMATS: { [K in keyof DaemonEvents]?: Formatter<K> } = {
  "daemon:started": (
    e,
  ) => ["info", `guix-p2p ${e.version} listening on ${e.socket} (pid ${e.pid})`],
  "daemon:stopping": (e) => ["info", `stopping: ${e.reason}`],
  "daemon:stopped": (e) => ["info", `stopped in ${Math.round(e.ms)} ms`],
  "daemon:warning": (e) => ["warn", e.message],
  "acl:loaded": (e) => ["info", `ACL ${e.path}: ${e.keys} authorized key(s)`],
  "narinfo:server-error": (e) => ["warn", `substitute server ${e.url}: ${e.message}`],
  "lookup:done": (
    e,
  ) => ["debug", `lookup: ${e.found}/${e.paths} found in ${e.durationMs.toFixed(0)} ms`],
  "transfer:started": (e) => ["info", `fetching ${e.storePath} (${e.narSize} bytes, ${e.policy})`],
  "transfer:source": (
    e,
  ) => [
    "debug",
    `  from ${e.source} ${e.url} at byte ${e.offset}${
      e.file ? " (the helper reads the cache file itself)" : ""
    }`,
  ],
  "transfer:source-failed": (
    e,
  ) => ["warn", `  ${e.source} ${e.url} failed at byte ${e.offset}: ${e.error}`],
  "transfer:done": (e) => [
    "info",
    `fetched ${e.storePath}: ${e.bytes} bytes in ${(e.durationMs / 1000).toFixed(2)} s from ${
      e.sources.map((s) => `${s.source} ${s.url} (${s.bytes})`).join(", ")
    }`,
  ],
  "transfer:failed": (e) => ["warn", `fetch of ${e.storePath} failed: ${e.error}`],
  "substitution:recorded": (e) => ["debug", `substituted ${e.storePath} (${e.source})`],
  "control:error": (e) => ["debug", `control connection: ${e.message}`],
  "p2p:started": (
    e,
  ) => [
    "info",
    `P2P node ${e.peerId} (DHT ${e.dhtMode}) on ${e.addresses.join(" ") || "no address"}`,
  ],
  "peer:connected": (e) => ["debug", `peer ${e.peer} connected from ${e.address}`],
  "peer:disconnected": (e) => ["debug", `peer ${e.peer} disconnected`],
  "peer:discovered": (e) =>
    e.via === "mdns"
      ? ["info", `discovered peer ${e.peer} on the local network (${e.addresses.join(" ")})`]
      : ["debug", `learned of peer ${e.peer} through the DHT (${e.addresses.join(" ")})`],
  "peer:latency": (e) => ["debug", `peer ${e.peer} round trip ${e.ms} ms`],
  "dashboard:started": (e) => ["info", `dashboard on ${e.url} (read-only)`],
  "gateway:started": (e) => ["info", `binary-cache gateway on ${e.url} (Nix; Guix under /guix)`],
  "gateway:request": (
    e,
  ) => [
    e.status >= 500 ? "warn" : "debug",
    `gateway ${e.method} ${e.path} ${e.status} (${e.flavour})${e.detail ? `: ${e.detail}` : ""}`,
  ],
  "dht:size": (e) => ["debug", `DHT routing table: ${e.peers} peer(s)`],
  "peer:penalised": (
    e,
  ) => [
    e.banned ? "warn" : "info",
    `peer ${e.peer} penalised${e.banned ? " and banned" : ""}: ${e.reason}`,
  ],
  "providers:found": (
    e,
  ) => ["info", `${e.count} provider(s) for ${e.narHash.slice(0, 16)}… in ${e.ms} ms`],
  "provide:done": (e) =>
    e.error
      ? ["warn", `announcing ${e.narHash.slice(0, 16)}… failed: ${e.error}`]
      : ["debug", `announced ${e.narHash.slice(0, 16)}… in ${e.ms} ms`],
  "provide:sweep": (e) => [
    "debug",
    `provider records (${e.reason}): ${e.keys} key(s) in ${e.regions} region(s), ${e.lookups} lookup(s), ${e.messages} message(s) to ${e.peers} peer(s)${
      e.failedPeers > 0 ? `, ${e.failedPeers} peer(s) failed` : ""
    } in ${e.ms} ms`,
  ],
  "seed:added": (e) => ["info", `seeding ${e.storePath ?? e.narHash} (${e.origin})`],
  "seed:removed": (e) => ["info", `no longer seeding ${e.narHash}`],
  "seed:job": (e) => [
    e.state === "failed" ? "warn" : "info",
    `seeding ${e.what}: ${e.state}, ${e.seeded} newly seeded, ${e.already} already, ${e.failed} failed (${e.bytes} bytes read)${
      e.errors.length ? `: ${e.errors.slice(0, 3).join("; ")}` : ""
    }`,
  ],
  "seed:profile": (e) => [
    "info",
    `profile ${e.profile} is ${e.item}${
      e.previous ? ` (was ${e.previous})` : ""
    }: seeding its closure`,
  ],
  "manifest:rejected": (
    e,
  ) => ["warn", `manifest from ${e.peer} for ${e.narHash.slice(0, 16)}… rejected: ${e.reason}`],
  "download:peer-dropped": (
    e,
  ) => ["info", `download ${e.narHash.slice(0, 16)}…: dropped peer ${e.peer}: ${e.reason}`],
  "block:served": (
    e,
  ) => [
    "debug",
    `served block ${e.index} of ${
      e.narHash.slice(0, 16)
    }… to ${e.peer} (${e.bytes} bytes ${e.encoding})`,
  ],
  "nar:served": (
    e,
  ) => [
    "debug",
    `served NAR ${e.narHash.slice(0, 16)}… whole to ${e.peer} (${e.bytes} bytes ${e.encoding})`,
  ],
  "download:whole": (
    e,
  ) => [
    "debug",
    `NAR ${
      e.narHash.slice(0, 16)
    }… whole from ${e.peer} (${e.bytes} bytes, ${e.wireBytes} on the wire)`,
  ],
  "prefetch:done": (
    e,
  ) => [
    "info",
    `prefetched ${e.fetched} of ${e.items} item(s) from peers (${e.bytes} bytes${
      e.failed ? `, ${e.failed} failed` : ""
    }) in ${e.ms} ms`,
  ],
  "download:block": (
    e,
  ) => ["debug", `block ${e.index} of ${e.narHash.slice(0, 16)}… from ${e.peer}`],
  "stream:rejected": (e) => ["info", `refused a block stream from ${e.peer}: ${e.reason}`],
  // Not "listening on": that is the daemon's ready line, which tests and scripts wait for.
  "bulk:listening": (e) => ["debug", `bulk lane: TCP port ${e.port} on ${e.hosts.join(", ")}`],
  "bulk:warning": (e) => ["warn", e.message],
  "nat:reachability": (
    e,
  ) => [
    "info",
    `reachability: ${e.reachability}${e.addresses.length ? ` (${e.addresses.join(" ")})` : ""}`,
  ],
  "relay:reserved": (
    e,
  ) => ["info", `relay reservation on ${e.relay}: reachable at ${e.addresses.join(" ")}`],
  "relay:lost": (e) => ["info", `relay reservation on ${e.relay} lost`],
  "relay:refused": (e) => ["info", `relay ${e.relay} refused a reservation: ${e.error}`],
  "relay:circuit": (
    e,
  ) => [
    "debug",
    `${e.denied ? "refused to relay" : "relaying"} a connection from ${e.source} to ${e.target}`,
  ],
  "nat:direct": (e) => ["info", `direct connection to ${e.peer} (was relayed): ${e.address}`],
  "nat:upnp": (
    e,
  ) => [
    "info",
    e.state === "mapped"
      ? `UPnP port mapping: ${e.addresses.join(" ")}`
      : "UPnP: looking for a gateway (once a minute)",
  ],
  "narinfo:served": (
    e,
  ) => [
    "debug",
    `served ${e.found}/${e.asked} ${e.flavour} narinfo(s) to ${e.peer} in ${e.ms.toFixed(1)} ms`,
  ],
  "narinfo:busy": (e) => ["info", `narinfo request of ${e.asked} from ${e.peer}: busy`],
  "narinfo:from-peer": (e) => ["debug", `narinfo of ${e.hashPart} from ${e.peer} (${e.via})`],
  "narinfo:refused": (
    e,
  ) => ["warn", `narinfo of ${e.hashPart} from ${e.peer} refused: ${e.reason}`],
  "narinfo:announced": (e) =>
    e.error
      ? ["warn", `publishing the narinfo record of ${e.hashPart} failed: ${e.error}`]
      : ["debug", `narinfo record of ${e.hashPart} published in ${e.ms} ms`],
};

/** Writes formatted events at or above `level`; returns a function that detaches. */
export function attachLogger(
  bus: EventBus<DaemonEvents>,
  level: LogLevel,
  write: (line: string) => void,
): () => void {
  const max = LEVELS[level];
  return bus.onAny((type, payload) => {
    const format = FORMATS[type] as Formatter<typeof type> | undefined;
    if (!format) return;
    const [lvl, message] = format(payload as never);
    if (LEVELS[lvl] <= max) write(`guix-p2p: ${lvl}: ${message}`);
  });
}
