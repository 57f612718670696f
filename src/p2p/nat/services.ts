/**
 * The libp2p parts of NAT traversal, from the configuration: the circuit
 * relay transport (always: it dials `/p2p-circuit` addresses of peers behind
 * NAT), AutoNAT, DCUtR, an opt-in, rate-limited relay service, and the
 * {@linkcode NatMonitor} that judges reachability and reserves relay slots.
 *
 * @example
 * ```ts
 * const node = await createLibp2p({
 *   transports: [tcp(), ...natTransports()],
 *   connectionGater: { ...relayGater(config, banned) },
 *   services: { identify: identify(), ...natServices(config) },
 * });
 * ```
 * @module
 */
import { autoNAT } from "@libp2p/autonat";
import { circuitRelayServer, circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { dcutr } from "@libp2p/dcutr";
import type { ConnectionGater, PeerId } from "@libp2p/interface";
import type { ConnectionManager } from "@libp2p/interface-internal";
import type { Config } from "../../config/schema.ts";
import { CircuitRate } from "./circuit_rate.ts";
import { type NatEvents, natMonitor } from "./monitor.ts";

/** The configuration keys NAT traversal reads. */
export type NatConfig = Pick<
  Config,
  | "autonat"
  | "hole_punching"
  | "upnp"
  | "relay_client"
  | "relay_service"
  | "relay_max_reservations"
  | "relay_max_data"
  | "relay_max_duration"
  | "relay_circuit_rate"
>;

type AutoNatComponents = Parameters<ReturnType<typeof autoNAT>>[0];

/**
 * AutoNAT (v1, @libp2p/autonat 3.0.28) answers a peer's "dial me back at
 * this address" with `openConnection(address)`, which returns the
 * connection the request came in on, and then closes it: the asking peer
 * loses its only connection (a NATed node its relay reservation), and the
 * answer proves nothing. Its components get a connection manager that makes
 * that one kind of call (a single address) a fresh dial, as the AutoNAT
 * spec intends; what it closes afterwards is that fresh connection.
 */
function freshDialBacks(components: AutoNatComponents): AutoNatComponents {
  const cm = components.connectionManager;
  const connectionManager = new Proxy(cm, {
    get(target, prop) {
      if (prop !== "openConnection") {
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      }
      const open: ConnectionManager["openConnection"] = (peer, options = {}) =>
        target.openConnection(peer, Array.isArray(peer) ? options : { ...options, force: true });
      return open;
    },
  });
  return new Proxy(components, {
    get: (target, prop) =>
      prop === "connectionManager" ? connectionManager : Reflect.get(target, prop),
  });
}

/** Transports to add to TCP. */
export function natTransports(): ReturnType<typeof circuitRelayTransport>[] {
  return [circuitRelayTransport({ reservationCompletionTimeout: 10_000 })];
}

/** Services to add to the node (keyed by service name). */
export function natServices(
  config: NatConfig,
  emit?: <K extends keyof NatEvents>(type: K, payload: NatEvents[K]) => void,
): Record<string, (components: never) => unknown> {
  const services: Record<string, (components: never) => unknown> = {
    nat: natMonitor({
      relayClient: config.relay_client === "auto",
      upnp: config.upnp,
      ...(emit ? { emit } : {}),
    }),
  };
  if (config.autonat) {
    const factory = autoNAT();
    services.autoNAT = (components: AutoNatComponents) => factory(freshDialBacks(components));
  }
  if (config.hole_punching) services.dcutr = dcutr();
  if (config.relay_service) {
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: config.relay_max_reservations,
        defaultDataLimit: BigInt(config.relay_max_data),
        // libp2p's relay server counts this one in milliseconds.
        defaultDurationLimit: config.relay_max_duration * 1000,
      },
    });
  }
  return services;
}

/**
 * Connection-gater rules for relaying: banned peers neither reserve nor
 * relay, and each peer opens at most `relay_circuit_rate` circuits a minute
 * through us.
 */
export function relayGater(
  config: NatConfig,
  banned: (peer: PeerId) => boolean,
  emit?: <K extends keyof NatEvents>(type: K, payload: NatEvents[K]) => void,
): Pick<
  ConnectionGater,
  "denyInboundRelayReservation" | "denyOutboundRelayedConnection" | "denyInboundRelayedConnection"
> {
  const rate = new CircuitRate({ perMinute: config.relay_circuit_rate });
  return {
    denyInboundRelayReservation: (peer) => banned(peer),
    denyOutboundRelayedConnection: (source, target) => {
      const denied = banned(source) || banned(target) || !rate.allow(source.toString());
      emit?.("relay:circuit", { source: source.toString(), target: target.toString(), denied });
      return denied;
    },
    denyInboundRelayedConnection: (_relay, remote) => banned(remote),
  };
}
