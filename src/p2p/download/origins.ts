/**
 * Independent origins of a manifest. Two PeerIds cost an attacker nothing,
 * so a manifest is corroborated only by first-hand sources (peers that say
 * they verified the whole NAR, not relays) on different networks: IPv4 /24,
 * IPv6 /48. Peers reached through a relay, or whose address is unknown,
 * corroborate nothing. Pure: addresses in, counts out.
 *
 * @example
 * ```ts
 * import { independentOrigins, networkOf } from "./origins.ts";
 * networkOf("/ip4/192.168.1.20/tcp/6881"); // "ip4:192.168.1"
 * independentOrigins(["ip4:192.168.1", "ip4:192.168.1", "ip4:10.0.0"]); // 2
 * ```
 * @module
 */

/**
 * The network a peer's address belongs to, for corroboration: `ip4:a.b.c`
 * (/24) or `ip6:xxxx:xxxx:xxxx` (/48); undefined for relayed or non-IP
 * addresses.
 *
 * @example
 * ```ts
 * import { networkOf } from "./origins.ts";
 * networkOf("/ip6/2001:db8:1:2::5/tcp/6881"); // "ip6:2001:db8:1"
 * networkOf("/ip4/1.2.3.4/tcp/1/p2p/QmRelay/p2p-circuit"); // undefined
 * ```
 */
export function networkOf(multiaddr: string): string | undefined {
  if (multiaddr.includes("/p2p-circuit")) return undefined;
  const v4 = /^\/ip4\/(\d+)\.(\d+)\.(\d+)\.\d+\//.exec(multiaddr + "/");
  if (v4) return `ip4:${v4[1]}.${v4[2]}.${v4[3]}`;
  const v6 = /^\/ip6\/([0-9a-fA-F:]+)\//.exec(multiaddr + "/");
  if (v6) {
    const groups = expandIpv6(v6[1]!);
    return groups ? `ip6:${groups.slice(0, 3).join(":")}` : undefined;
  }
  return undefined;
}

/**
 * How many distinct networks the given first-hand sources are on (unknown
 * networks, `undefined`, count for nothing).
 *
 * @example
 * ```ts
 * import { independentOrigins } from "./origins.ts";
 * independentOrigins([undefined, "ip4:10.0.0"]); // 1
 * ```
 */
export function independentOrigins(networks: (string | undefined)[]): number {
  return new Set(networks.filter((n): n is string => n !== undefined)).size;
}

function expandIpv6(text: string): string[] | undefined {
  const [head, tail, extra] = text.toLowerCase().split("::");
  if (extra !== undefined) return undefined;
  const a = head ? head.split(":") : [];
  const b = tail !== undefined ? (tail ? tail.split(":") : []) : [];
  const missing = 8 - a.length - b.length;
  if (tail === undefined ? a.length !== 8 : missing < 1) return undefined;
  const all = [...a, ...new Array(tail === undefined ? 0 : missing).fill("0"), ...b];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return all.map((g) => String(parseInt(g, 16).toString(16)));
}
