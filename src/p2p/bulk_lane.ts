/**
 * Where the bulk lane is used (docs/protocol.md §3.7): block data to and from
 * a peer goes over a plain TCP connection instead of the Noise-encrypted
 * libp2p stream only on a direct (not relayed) connection, and, with
 * `bulk_lane = "lan"` (the default), only to a peer on the local network.
 *
 * @example
 * ```ts
 * import { bulkLaneAllowed } from "./bulk_lane.ts";
 * bulkLaneAllowed("lan", "/ip4/192.168.1.9/tcp/4001"); // true
 * bulkLaneAllowed("lan", "/ip4/8.8.8.8/tcp/4001"); // false
 * ```
 * @module
 */
import { isLocalNetwork } from "./dial_policy.ts";
import { isRelayed } from "./nat/reachability.ts";

/** The `bulk_lane` setting. */
export type BulkLanePolicy = "lan" | "always" | "off";

/** Whether a connection to `address` (a multiaddr) may carry a bulk lane under `policy`. */
export function bulkLaneAllowed(policy: BulkLanePolicy, address: string): boolean {
  if (policy === "off" || isRelayed(address) || !/^\/ip[46]\/[^/]+\/tcp\//.test(address)) {
    return false;
  }
  return policy === "always" || isLocalNetwork(address);
}

/** The IP address of a multiaddr (`/ip4/…` or `/ip6/…`), normalised, or undefined. */
export function hostOfConnection(address: string): string | undefined {
  const m = /^\/ip[46]\/([^/]+)/.exec(address);
  return m ? normalizeIp(m[1]!) : undefined;
}

/** An IP address as both ends compare it: IPv4-mapped IPv6 as IPv4, zone and case dropped. */
export function normalizeIp(ip: string): string {
  const bare = ip.split("%")[0]!.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  return mapped ? mapped[1]! : bare;
}
