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
import { type P2pService, routingTableSize } from "../p2p/service.ts";
import { shareableAddresses } from "../p2p/share_info.ts";
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
  for (const conn of node?.getConnections() ?? []) {
    const id = conn.remotePeer.toString();
    connected.set(id, [...(connected.get(id) ?? []), conn.remoteAddr.toString()]);
  }
  const ids = new Set([...connected.keys(), ...book.list().map((p) => p.id)]);
  return [...ids].map((id) => {
    const r = book.get(id);
    return {
      peerId: id,
      connected: connected.has(id),
      addresses: connected.get(id) ?? r?.addresses ?? [],
      agent: r?.agent ?? null,
      latencyMs: r?.latencyMs ?? null,
      bytesUp: r?.bytesUp ?? 0,
      bytesDown: r?.bytesDown ?? 0,
      blocksUp: r?.blocksUp ?? 0,
      blocksDown: r?.blocksDown ?? 0,
      faults: r?.faults ?? 0,
      banned: book.isBanned(id),
      score: Math.round(book.score(id) * 100) / 100,
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
    seeds: p2p.seeds.list().length,
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
