/**
 * The read-only web dashboard of the daemon: a page, a JSON API and a live
 * event stream (docs/dashboard.md).
 *
 * @example
 * ```ts
 * import { Dashboard, DashboardServer } from "./mod.ts";
 * const server = new DashboardServer({
 *   listen: "127.0.0.1:6880",
 *   dashboard: new Dashboard({ source, events: bus }),
 * });
 * await server.start();
 * ```
 * @module
 */
export { Dashboard, type DashboardOptions, listedEvent } from "./app.ts";
export { DashboardServer, type DashboardServerOptions } from "./deno_server.ts";
export { DashboardListenError } from "./errors.ts";
export { EventRing, type RecordedEvent } from "./event_ring.ts";
export type {
  DashboardSource,
  EventFeed,
  NatView,
  NodeStatus,
  PeerView,
  SeedView,
  ShareInfo,
} from "./source.ts";
export { SseHub } from "./sse.ts";
export { TransferTracker, type TransferView } from "./transfers.ts";
