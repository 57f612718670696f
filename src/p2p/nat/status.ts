/**
 * The `nat` part of `status` (also read by `doctor` and the dashboard): the
 * node's reachability, which NAT traversal mechanisms are on and what each
 * is doing, and how many block bytes came in directly or through relays.
 *
 * @example
 * ```ts
 * const nat = natStatus(node, config, links.bytesByPath());
 * nat.reachability; // "public" | "private" | "unknown"
 * nat.relayClient.reservations; // [{ relay, addresses }]
 * ```
 * @module
 */
import type { P2pNode } from "../node.ts";
import type { Reachability } from "./reachability.ts";
import type { NatConfig } from "./services.ts";

/** The `nat` object of `status`. */
export interface NatStatus {
  reachability: Reachability;
  /** Public addresses peers on the internet can dial (confirmed). */
  publicAddresses: string[];
  /** Public addresses not confirmed (yet, or AutoNAT could not reach them). */
  unconfirmedAddresses: string[];
  autonat: boolean;
  holePunching: { enabled: boolean; directUpgrades: number };
  upnp: { enabled: boolean; state: "off" | "idle" | "searching" | "mapped"; addresses: string[] };
  relayClient: {
    mode: "auto" | "off";
    reservations: { relay: string; addresses: string[] }[];
  };
  relayService: {
    enabled: boolean;
    reservations: number;
    maxReservations: number;
    maxDataBytes: number;
    maxDurationSeconds: number;
    circuitsPerPeerPerMinute: number;
  };
  /** Block bytes received from peers, by path (`bulk`: the part of `direct` on bulk lanes). */
  bytesIn: { direct: number; relayed: number; bulk?: number };
}

/** Builds the report; `node` is undefined while the P2P node is not running. */
export function natStatus(
  node: P2pNode | undefined,
  config: NatConfig,
  bytesIn: { direct: number; relayed: number; bulk?: number },
): NatStatus {
  const snap = node?.services.nat.snapshot();
  return {
    reachability: snap?.reachability ?? "unknown",
    publicAddresses: snap?.publicAddresses ?? [],
    unconfirmedAddresses: snap?.unconfirmed ?? [],
    autonat: config.autonat,
    holePunching: { enabled: config.hole_punching, directUpgrades: snap?.directUpgrades ?? 0 },
    upnp: {
      enabled: config.upnp,
      state: snap?.upnp.state ?? (config.upnp ? "idle" : "off"),
      addresses: snap?.upnp.addresses ?? [],
    },
    relayClient: { mode: config.relay_client, reservations: snap?.reservations ?? [] },
    relayService: {
      enabled: config.relay_service,
      reservations: node?.services.relay?.reservations.size ?? 0,
      maxReservations: config.relay_max_reservations,
      maxDataBytes: config.relay_max_data,
      maxDurationSeconds: config.relay_max_duration,
      circuitsPerPeerPerMinute: config.relay_circuit_rate,
    },
    bytesIn,
  };
}
