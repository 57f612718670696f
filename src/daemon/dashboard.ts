/**
 * Wires the web dashboard into the daemon: adapts the daemon's handler and
 * the P2P service to a {@linkcode DashboardSource} (the only place that knows
 * where the dashboard's data lives), and serves it on `dashboard_listen`.
 * A dashboard that cannot bind its address is a warning, not a failure: the
 * daemon's job is substitution.
 *
 * @example
 * ```ts
 * const dashboard = daemonDashboard(config, bus, { daemon, p2p: p2pReports(p2p) });
 * await daemon.start();
 * await dashboard?.start();
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";
import { isLoopbackHostPort } from "../config/load.ts";
import {
  Dashboard,
  DashboardServer,
  type DashboardSource,
  type NatView,
  type NodeStatus,
  type PeerView,
  type SeedView,
} from "../dashboard/mod.ts";
import type { EventBus } from "../events/bus.ts";
import type { NatStatus } from "../p2p/nat/mod.ts";
import type { P2pService } from "../p2p/service.ts";
import { shareInfo } from "../p2p/share_info.ts";
import type { DaemonEvents } from "./events.ts";
import { peersReport, statusReport } from "./p2p_admin.ts";

/** What the P2P layer offers the dashboard (the reports `status`, `peers` and `seeds` print). */
export interface P2pReports {
  statusReport(): Record<string, unknown>;
  peersReport(): Record<string, unknown>[];
  seeds: {
    list(): {
      narHash: string;
      storePath: string | undefined;
      narSize: number;
      kind: string;
      origin: string;
    }[];
  };
}

/** The reports of a running P2P service. */
export function p2pReports(p2p: P2pService): P2pReports {
  return {
    statusReport: () => statusReport(p2p),
    peersReport: () => peersReport(p2p),
    seeds: p2p.seeds,
  };
}

/** What the daemon offers the dashboard. */
export interface DaemonReports {
  handler: { status(): Record<string, unknown> };
}

type Obj = Record<string, unknown>;
const num = (v: unknown): number => typeof v === "number" && Number.isFinite(v) ? v : 0;
const strs = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/** The page's view of the NAT report (none when the P2P service gives none). */
function natView(n: NatStatus | undefined): NatView | null {
  if (!n) return null;
  return {
    reachability: n.reachability,
    autonat: n.autonat,
    relayReservations: n.relayClient.reservations.map((r) => r.relay),
    relayService: n.relayService.enabled,
    holePunching: n.holePunching.enabled,
    directUpgrades: n.holePunching.directUpgrades,
    upnp: n.upnp.state,
    bytesDirect: n.bytesIn.direct,
    bytesRelayed: n.bytesIn.relayed,
  };
}

/** The dashboard's view of a daemon and its P2P service. */
export function dashboardSource(
  config: Pick<Config, "announce">,
  parts: { daemon: DaemonReports; p2p?: P2pReports },
): DashboardSource {
  const { daemon, p2p } = parts;
  const p2pStatus = (): NodeStatus["p2p"] => {
    if (!p2p) return null;
    const r = p2p.statusReport();
    return {
      peerId: typeof r.peerId === "string" ? r.peerId : null,
      listen: strs(r.listen),
      dhtMode: String(r.dhtMode ?? "client"),
      dhtPeers: num(r.dhtPeers),
      connections: num(r.connections),
      seeds: num(r.seeds),
      cacheBytes: num(r.cacheBytes),
      nat: natView(r.nat as NatStatus | undefined),
    };
  };
  return {
    status: () => {
      const s = daemon.handler.status();
      return Promise.resolve({
        version: String(s.version),
        pid: num(s.pid),
        uptimeSeconds: num(s.uptimeSeconds),
        policy: String(s.policy),
        storeDir: String(s.storeDir),
        substituteUrls: strs(s.substituteUrls),
        p2p: p2pStatus(),
      });
    },
    peers: () =>
      Promise.resolve((p2p?.peersReport() ?? []).map((p: Obj): PeerView => ({
        peerId: String(p.peerId),
        connected: p.connected === true,
        addresses: strs(p.addresses),
        agent: typeof p.agent === "string" ? p.agent : null,
        latencyMs: typeof p.latencyMs === "number" ? p.latencyMs : null,
        bytesUp: num(p.bytesUp),
        bytesDown: num(p.bytesDown),
        faults: num(p.faults),
        score: num(p.score),
        banned: p.banned === true,
      }))),
    seeds: () =>
      Promise.resolve((p2p?.seeds.list() ?? []).map((s): SeedView => ({
        narHash: s.narHash,
        storePath: s.storePath ?? null,
        narSize: s.narSize,
        kind: s.kind,
        origin: s.origin,
      }))),
    shareInfo: () => {
      const s = p2pStatus();
      return Promise.resolve(
        shareInfo({
          peerId: s?.peerId ?? null,
          addresses: [...(s?.listen ?? []), ...config.announce],
        }),
      );
    },
  };
}

/** The dashboard as a part of the daemon (start never throws; failures are warnings). */
export interface DaemonDashboard {
  readonly dashboard: Dashboard;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The daemon's dashboard, or undefined when `dashboard_listen` is "". Records events at once. */
export function daemonDashboard(
  config: Pick<Config, "dashboard_listen" | "announce">,
  bus: EventBus<DaemonEvents>,
  parts: { daemon: DaemonReports; p2p?: P2pReports },
): DaemonDashboard | undefined {
  const listen = config.dashboard_listen;
  if (listen === "") return undefined;
  const loopback = isLoopbackHostPort(listen);
  const dashboard = new Dashboard({
    source: dashboardSource(config, parts),
    events: bus,
    loopbackOnly: loopback,
  });
  const server = new DashboardServer({ listen, dashboard });
  return {
    dashboard,
    async start() {
      try {
        await server.start();
      } catch (e) {
        dashboard.close();
        bus.emit("daemon:warning", { message: `${(e as Error).message}; no dashboard` });
        return;
      }
      bus.emit("dashboard:started", { url: server.url, loopback });
      if (!loopback) {
        bus.emit("daemon:warning", {
          message: `the dashboard listens on ${listen}, not on loopback: it has no ` +
            "authentication, so whoever reaches that address sees this node's peers, transfers and seeds",
        });
      }
    },
    stop: () => server.stop(),
  };
}
