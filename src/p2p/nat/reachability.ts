/**
 * Whether the internet can dial this node, judged from the node's own
 * addresses as libp2p's address manager sees them: an address is
 * "verified" once AutoNAT confirmed it (or the operator announced it, or a
 * UPnP gateway mapped it), and AutoNAT marks an address it failed to reach
 * as unverified for a retry period.
 *
 * - `public`: at least one verified public (non-private, non-relay) address;
 * - `private`: no public address at all (behind a NAT or on a LAN only), or
 *   AutoNAT failed to reach every public one;
 * - `unknown`: public addresses that AutoNAT has not (yet) confirmed.
 *
 * @example
 * ```ts
 * const r = reachability([
 *   { multiaddr: "/ip4/192.168.1.5/tcp/6881", verified: true, expires: 0 },
 * ], Date.now());
 * r.reachability; // "private"
 * ```
 * @module
 */
import { isPrivateIp } from "@libp2p/utils";

/** Reachability from the internet. */
export type Reachability = "public" | "private" | "unknown";

/** One of the node's addresses with libp2p's verification state. */
export interface AddressState {
  multiaddr: string;
  verified: boolean;
  /** Until when the state holds (ms since the epoch); 0 when never checked. */
  expires: number;
}

/** What {@linkcode reachability} concludes. */
export interface ReachabilityReport {
  reachability: Reachability;
  /** Verified public addresses (what peers on the internet can dial). */
  publicAddresses: string[];
  /** Public addresses not (or no longer) confirmed. */
  unconfirmed: string[];
}

/** True for `/p2p-circuit` (relayed) addresses. */
export function isRelayed(multiaddr: string): boolean {
  return multiaddr.includes("/p2p-circuit");
}

/** The IP of an `/ip4/…` or `/ip6/…` multiaddr, else undefined. */
export function ipOf(multiaddr: string): string | undefined {
  return /^\/ip[46]\/([^/]+)/.exec(multiaddr)?.[1];
}

/** True when the address is a public IP address that is not relayed. */
export function isPublicAddress(multiaddr: string): boolean {
  const ip = ipOf(multiaddr);
  return ip !== undefined && !isRelayed(multiaddr) && isPrivateIp(ip) !== true;
}

/** Classifies the node's addresses at time `now`. */
export function reachability(addresses: AddressState[], now: number): ReachabilityReport {
  const publics = addresses.filter((a) => isPublicAddress(a.multiaddr));
  const verified = publics.filter((a) => a.verified).map((a) => a.multiaddr);
  const unconfirmed = publics.filter((a) => !a.verified).map((a) => a.multiaddr);
  let result: Reachability;
  if (verified.length > 0) result = "public";
  else if (publics.length === 0) result = "private";
  // AutoNAT marks an address it could not reach as unverified until `expires`.
  else if (publics.every((a) => a.expires > now)) result = "private";
  else result = "unknown";
  return {
    reachability: result,
    publicAddresses: [...new Set(verified)],
    unconfirmed: [...new Set(unconfirmed)],
  };
}
