/**
 * Everything observable about the daemon, as typed events. Logs, the admin
 * CLI and any dashboard subscribe; the core only emits.
 *
 * @example
 * ```ts
 * import { EventBus } from "../events/bus.ts";
 * import type { DaemonEvents } from "./events.ts";
 * const bus = new EventBus<DaemonEvents>();
 * bus.on("transfer:done", (e) => console.log(e.storePath, e.bytes));
 * ```
 * @module
 */
import type { TransferEvents } from "../fetch/events.ts";
import type { P2pEvents } from "../p2p/events.ts";
import type { GatewayEvents } from "../gateway/gateway.ts";

/** Daemon events (name → payload). */
export interface DaemonEvents extends TransferEvents, P2pEvents, GatewayEvents {
  "daemon:started": { socket: string; version: string; pid: number };
  "daemon:stopping": { reason: string };
  "daemon:stopped": { ms: number };
  "daemon:warning": { message: string };
  "acl:loaded": { path: string; keys: number };
  "narinfo:server-error": { url: string; message: string };
  "lookup:done": { paths: number; found: number; durationMs: number };
  "substitution:recorded": { storePath: string; narHash: string; narSize: number; source: string };
  "control:error": { message: string };
  "dashboard:started": { url: string; loopback: boolean };
}
