/**
 * Multiaddr validation for configuration values. The full check uses the
 * libp2p multiaddr library, which takes ~70 ms to load; programs that load
 * libp2p anyway (the daemon, the admin CLI) install it with
 * {@linkcode useMultiaddrLibrary}. Short-lived programs (the substitute
 * helper, which must start in a few milliseconds and never uses these keys)
 * keep the strict built-in grammar below, which accepts the address forms
 * guix-p2p uses.
 *
 * @example
 * ```ts
 * import { checkMultiaddr } from "./multiaddr_check.ts";
 * checkMultiaddr("/ip4/10.0.0.1/tcp/6881"); // "/ip4/10.0.0.1/tcp/6881"
 * ```
 * @module
 */

/** Validates and normalises a multiaddr string; throws with a reason. */
export type MultiaddrChecker = (text: string) => string;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const PORT = /^(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}|0)$/;
const DNS =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const PEER_ID = /^([1-9A-HJ-NP-Za-km-z]{1,128}|b[a-z2-7]{1,200})$/;

function ipv6(s: string): boolean {
  try {
    new URL(`http://[${s}]/`);
    return s.includes(":");
  } catch {
    return false;
  }
}

/** The built-in grammar: /ip4|ip6|dns|dns4|dns6|dnsaddr, then /tcp|udp/PORT[/quic-v1|/ws|/wss|/tls], /ipcidr/N, /p2p/ID. */
export const builtinMultiaddrCheck: MultiaddrChecker = (text) => {
  const parts = text.split("/");
  if (parts[0] !== "" || parts.length < 3) {
    throw new Error('must start with "/" and name a protocol and value');
  }
  let i = 1;
  const take = (what: string): string => {
    const v = parts[i++];
    if (v === undefined || v === "") throw new Error(`missing ${what}`);
    return v;
  };
  while (i < parts.length) {
    const proto = parts[i++]!;
    switch (proto) {
      case "ip4": {
        const v = take("IPv4 address");
        if (!IPV4.test(v)) throw new Error(`invalid IPv4 address "${v}"`);
        break;
      }
      case "ip6": {
        const v = take("IPv6 address");
        if (!ipv6(v)) throw new Error(`invalid IPv6 address "${v}"`);
        break;
      }
      case "dns":
      case "dns4":
      case "dns6":
      case "dnsaddr": {
        const v = take("host name");
        if (!DNS.test(v)) throw new Error(`invalid host name "${v}"`);
        break;
      }
      case "tcp":
      case "udp": {
        const v = take("port");
        if (!PORT.test(v)) throw new Error(`invalid port "${v}"`);
        break;
      }
      case "ipcidr": {
        const v = take("prefix length");
        if (!/^(\d|[1-9]\d|1[01]\d|12[0-8])$/.test(v)) {
          throw new Error(`invalid prefix length "${v}"`);
        }
        break;
      }
      case "p2p": {
        const v = take("peer id");
        if (!PEER_ID.test(v)) throw new Error(`invalid peer id "${v}"`);
        break;
      }
      case "quic-v1":
      case "ws":
      case "wss":
      case "tls":
        break;
      default:
        throw new Error(`unknown protocol "${proto}"`);
    }
  }
  return text;
};

/**
 * Checks that a (valid) multiaddr is one the daemon can listen on: the node
 * runs only the TCP transport, so `/ip4|ip6|dns…/HOST/tcp/PORT` and nothing
 * else (`/udp/…/quic-v1`, `/ws` would make libp2p fail at start with "No
 * transport was configured").
 */
export function checkTcpListenAddress(text: string): string {
  if (!/^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+$/.test(text)) {
    throw new Error(
      `only TCP listen addresses are supported (e.g. "/ip4/0.0.0.0/tcp/6881"; guix-p2p has no QUIC, WebSocket or other transport): "${text}"`,
    );
  }
  return text;
}

let current: MultiaddrChecker = builtinMultiaddrCheck;

/** Validates `text` with the installed checker. */
export function checkMultiaddr(text: string): string {
  return current(text);
}

/** Installs the libp2p library's parser (call before loading the configuration). */
export async function useMultiaddrLibrary(): Promise<void> {
  const { multiaddr } = await import("@multiformats/multiaddr");
  current = (text) => multiaddr(text).toString();
}
