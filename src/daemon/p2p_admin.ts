/**
 * The admin commands the P2P layer answers (`peers`, `seeds`, `seed`,
 * `unseed`, and the P2P part of `status`), and the reports they print:
 * the daemon's edge, reading the P2P service's parts.
 *
 * @example
 * ```ts
 * const daemon = new Daemon(config, { admin: p2pAdmin(p2p) });
 * ```
 * @module
 */
import type { AdminCommand } from "../control/messages.ts";
import { natStatus } from "../p2p/nat/mod.ts";
import { dhtServerMode, providerStats } from "../p2p/node.ts";
import type { P2pService } from "../p2p/service.ts";
import { routingTableSize } from "../p2p/node.ts";
import { isShareableAddress, shareableAddresses } from "../p2p/share_info.ts";
import { connectionsRtt } from "../p2p/upkeep.ts";
import { BadRequestError } from "./error_map.ts";
import type { AdminExtension } from "./handler.ts";

/** The admin extension for `p2p`. */
export function p2pAdmin(p2p: P2pService): AdminExtension {
  return (command: AdminCommand, args: string[]): Promise<unknown> | undefined => {
    switch (command) {
      case "peers":
        return Promise.resolve(peersReport(p2p));
      case "seeds":
        return Promise.resolve(p2p.seeds.list());
      case "seed":
        return (async () => {
          const out = [];
          for (const p of args) {
            try {
              out.push({ ok: true, ...(await p2p.seeding.seedPath(p, "explicit")) });
            } catch (e) {
              out.push({ ok: false, path: p, error: (e as Error).message });
            }
          }
          return out;
        })();
      case "unseed":
        return (async () => {
          const out = [];
          for (const t of args) {
            const hex = await p2p.seeding.unseed(t);
            out.push({ target: t, removed: hex !== undefined });
          }
          return out;
        })();
      case "seed-closure":
        return Promise.resolve().then(() => {
          if (args.length === 0) throw new BadRequestError("seed-closure needs store items");
          try {
            return p2p.seeding.seedClosure(args, "explicit");
          } catch (e) {
            throw new BadRequestError((e as Error).message);
          }
        });
      case "seed-store":
        return Promise.resolve().then(() => p2p.seeding.seedStore("explicit"));
      case "seed-jobs":
        return Promise.resolve(p2p.seeding.jobs());
      case "status":
        return Promise.resolve(statusReport(p2p));
      default:
        return undefined;
    }
  };
}

/** Peers: connected ones first, then remembered ones. */
export function peersReport(p2p: P2pService): Record<string, unknown>[] {
  const node = p2p.nodeIfRunning;
  const book = p2p.peerBook;
  const connected = new Map<string, string[]>();
  const rtts = new Map<string, { rtt?: number }[]>();
  for (const conn of node?.getConnections() ?? []) {
    const id = conn.remotePeer.toString();
    connected.set(id, [...(connected.get(id) ?? []), conn.remoteAddr.toString()]);
    rtts.set(id, [...(rtts.get(id) ?? []), conn]);
  }
  const ids = new Set([...connected.keys(), ...book.list().map((p) => p.id)]);
  return [...ids].map((id) => {
    const r = book.get(id);
    return {
      peerId: id,
      connected: connected.has(id),
      addresses: connected.get(id) ?? r?.addresses ?? [],
      agent: r?.agent ?? null,
      // Live from the connection monitor while connected; the last known value otherwise.
      latencyMs: connectionsRtt(rtts.get(id) ?? []) ?? r?.latencyMs ?? null,
      bytesUp: r?.bytesUp ?? 0,
      bytesDown: r?.bytesDown ?? 0,
      blocksUp: r?.blocksUp ?? 0,
      blocksDown: r?.blocksDown ?? 0,
      faults: r?.faults ?? 0,
      banned: book.isBanned(id),
      score: Math.round(book.score(id) * 100) / 100,
      // Block data over a plain-TCP bulk lane (docs/protocol.md §3.7): "none" | "opening" |
      // "open" | "closed", with why it closed.
      bulkLane: p2p.links.peek(id)?.bulk ?? null,
    };
  }).sort((a, b) => Number(b.connected) - Number(a.connected));
}

/** The P2P part of `status`. */
export function statusReport(p2p: P2pService): Record<string, unknown> {
  const node = p2p.nodeIfRunning;
  const addrs = node?.getMultiaddrs().map(String) ?? [];
  const peerId = node?.peerId.toString() ?? null;
  // The same rule as share-info and the dashboard (not loopback, unspecified or link-local).
  const shareable = peerId ? shareableAddresses(addrs, peerId) : [];
  return {
    peerId,
    listen: addrs,
    shareable,
    dhtMode: dhtServerMode(p2p.config) ? "server" : "client",
    dhtPeers: routingTableSize(node),
    dhtProviderRecords: node ? providerStats(node) ?? null : null,
    connections: node?.getConnections().length ?? 0,
    // Peers that dialled this node from the network (not loopback): evidence it is reachable.
    inbound:
      (node?.getConnections() ?? []).filter((c) =>
        c.direction === "inbound" && isShareableAddress(c.remoteAddr.toString())
      ).length,
    seeds: p2p.seeds.list().length,
    // Store items waiting to be read for seeding (seed --closure/--profile/--store, seed_profiles).
    indexing: p2p.seeding.pendingItems,
    // Provider records waiting for their turn (announcements are paced).
    announcing: p2p.seeding.pendingAnnouncements,
    cacheBytes: p2p.cache.totalBytes,
    nat: natStatus(node, p2p.config, p2p.links.bytesByPath()),
    downloads: p2p.registry.entries().map(([hex, d]) => ({
      narHash: hex,
      peers: d.download.peers,
      have: d.download.entry.haveCount,
      blocks: d.download.entry.blockCount,
      contributions: d.download.contributions(),
    })),
  };
}
