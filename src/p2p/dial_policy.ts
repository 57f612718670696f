/**
 * Which addresses this node dials. Peers advertise addresses (identify, DHT
 * replies, our peer book remembers them); a hostile peer could advertise
 * 127.0.0.1:22 or a link-local address and make us connect to services on
 * our own host or link. So loopback addresses are dialled only when this node
 * itself lives on loopback (`dial_loopback = "auto"`: one of its listen,
 * announce or bootstrap addresses is loopback — single-host swarms and the
 * tests) or when `dial_loopback = "always"`; link-local and unspecified
 * addresses never, unless they match `dial_allowlist` or are a configured
 * bootstrap address. Private LAN ranges (RFC 1918, ULA) and public addresses
 * are always dialled. Used as libp2p's `connectionGater.denyDialMultiaddr`.
 *
 * @example
 * ```ts
 * const deny = dialDenier({ dial_loopback: "auto", dial_allowlist: [], listen: ["/ip4/0.0.0.0/tcp/6881"], announce: [], bootstrap_peers: [] });
 * deny("/ip4/127.0.0.1/tcp/22"); // true
 * deny("/ip4/192.168.1.7/tcp/6881"); // false
 * ```
 * @module
 */

/** The address classes that matter here. */
export type AddressScope = "loopback" | "link-local" | "unspecified" | "other";

/** The configuration keys the policy reads. */
export interface DialPolicyConfig {
  dial_loopback: "auto" | "always" | "never";
  dial_allowlist: string[];
  listen: string[];
  announce: string[];
  bootstrap_peers: string[];
}

/** Returns a predicate: true when `address` (a multiaddr text) must not be dialled. */
export function dialDenier(config: DialPolicyConfig): (address: string) => boolean {
  const own = [...config.listen, ...config.announce, ...config.bootstrap_peers];
  const loopbackOk = config.dial_loopback === "always" ||
    (config.dial_loopback === "auto" && own.some((a) => addressScope(a) === "loopback"));
  const allow = config.dial_allowlist.map(parseCidr).filter((c) => c !== undefined);
  const bootstrapHosts = new Set(config.bootstrap_peers.map((a) => hostOf(a)?.ip).filter(Boolean));
  return (address: string) => {
    const scope = addressScope(address);
    if (scope === "other") return false;
    if (scope === "loopback" && loopbackOk) return false;
    const host = hostOf(address);
    if (host && bootstrapHosts.has(host.ip)) return false;
    if (host && allow.some((c) => c.family === host.family && inCidr(host.bytes, c))) return false;
    return true;
  };
}

/** The scope of the host in a multiaddr text (`/ip4/…`, `/ip6/…`, `/dns…/localhost`). */
export function addressScope(address: string): AddressScope {
  const host = hostOf(address);
  if (!host) {
    return /^\/dns[46]?\/localhost(\/|$)/i.test(address) ? "loopback" : "other";
  }
  const b = host.bytes;
  if (host.family === 4) {
    if (b[0] === 127) return "loopback";
    if (b[0] === 169 && b[1] === 254) return "link-local";
    if (b.every((x) => x === 0)) return "unspecified";
    return "other";
  }
  if (b.slice(0, 15).every((x) => x === 0)) return b[15] === 1 ? "loopback" : "unspecified";
  // IPv4-mapped ::ffff:a.b.c.d
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return addressScope(`/ip4/${b.slice(12).join(".")}`);
  }
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "link-local";
  return "other";
}

/**
 * True for an address on the local network: loopback, link-local, private IPv4
 * (10/8, 172.16/12, 192.168/16) and unique-local IPv6 (fc00::/7).
 *
 * @example
 * ```ts
 * import { isLocalNetwork } from "./dial_policy.ts";
 * [isLocalNetwork("/ip4/192.168.1.9/tcp/4001"), isLocalNetwork("/ip4/8.8.8.8/tcp/1")]; // [true, false]
 * ```
 */
export function isLocalNetwork(address: string): boolean {
  const scope = addressScope(address);
  if (scope === "loopback" || scope === "link-local") return true;
  const host = hostOf(address);
  if (!host) return false;
  let b = host.bytes;
  if (
    host.family === 6 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff
  ) {
    b = b.slice(12);
  } else if (host.family === 6) return (b[0]! & 0xfe) === 0xfc;
  return b[0] === 10 || (b[0] === 172 && (b[1]! & 0xf0) === 16) || (b[0] === 192 && b[1] === 168);
}

interface Host {
  family: 4 | 6;
  ip: string;
  bytes: number[];
}

function hostOf(address: string): Host | undefined {
  const m = /^\/(ip4|ip6)\/([^/]+)/.exec(address);
  if (!m) return undefined;
  const bytes = m[1] === "ip4" ? ipv4Bytes(m[2]!) : ipv6Bytes(m[2]!);
  if (!bytes) return undefined;
  return { family: m[1] === "ip4" ? 4 : 6, ip: bytes.join(","), bytes };
}

function ipv4Bytes(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const b = parts.map((p) => /^\d{1,3}$/.test(p) ? Number(p) : NaN);
  return b.every((x) => x >= 0 && x <= 255) ? b : undefined;
}

function ipv6Bytes(s: string): number[] | undefined {
  let text = s.split("%")[0]!;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    if (!b) return undefined;
    tail = b;
    text = text.slice(0, -v4[1]!.length) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const words = (h: string) => h === "" ? [] : h.split(":").map((w) => parseInt(w, 16));
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? words(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  const all = [...head, ...new Array(Math.max(0, fill)).fill(0), ...rest];
  if (all.length !== 8 || all.some((w) => !(w >= 0 && w <= 0xffff))) return undefined;
  const bytes = all.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

interface Cidr {
  family: 4 | 6;
  bytes: number[];
  bits: number;
}

function parseCidr(prefix: string): Cidr | undefined {
  const host = hostOf(prefix);
  if (!host) return undefined;
  const m = /\/ipcidr\/(\d+)/.exec(prefix);
  const bits = m ? Number(m[1]) : host.bytes.length * 8;
  return { family: host.family, bytes: host.bytes, bits };
}

function inCidr(bytes: number[], c: Cidr): boolean {
  for (let i = 0; i < c.bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if (((bytes[byte] ?? 0) & mask) !== ((c.bytes[byte] ?? 0) & mask)) return false;
  }
  return true;
}
