/**
 * NAT traversal for the libp2p node (docs/protocol.md §5): reachability,
 * AutoNAT, circuit relay v2 (client and opt-in service), DCUtR, UPnP, the
 * stream opener that prefers direct connections, and the `nat` status.
 *
 * @example
 * ```ts
 * import { natServices, natStatus, natTransports, relayGater } from "./mod.ts";
 * ```
 * @module
 */
export { CircuitRate, type CircuitRateOptions } from "./circuit_rate.ts";
export {
  type NatEvents,
  NatMonitor,
  natMonitor,
  type NatMonitorInit,
  type NatSnapshot,
  RELAY_HOP_PROTOCOL,
} from "./monitor.ts";
export { DIRECT_WAIT_MS, openPreferDirect, type OpenPreferDirectOptions } from "./prefer_direct.ts";
export {
  isPublicAddress,
  isRelayed,
  type Reachability,
  reachability,
  type ReachabilityReport,
} from "./reachability.ts";
export { type NatConfig, natServices, natTransports, relayGater } from "./services.ts";
export { type NatStatus, natStatus } from "./status.ts";
