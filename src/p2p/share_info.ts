/**
 * What a neighbour needs to use this node as a bootstrap peer: the node's
 * shareable addresses (each ending in `/p2p/<peer id>`) and the paste-ready
 * lines for a `config.toml` (`bootstrap_peers = [...]`) and for a Guix System
 * service declaration (`(bootstrap-peers '(...))`). Pure: used by
 * `guix-p2p share-info` and the dashboard.
 *
 * An address is shareable unless it is loopback (`127.0.0.0/8`, `::1`,
 * `localhost`), unspecified (`0.0.0.0`, `::`) or IPv6 link-local (`fe80::/10`,
 * unusable without an interface name).
 *
 * @example
 * ```ts
 * import { shareInfo } from "./share_info.ts";
 * const info = shareInfo({
 *   peerId: "12D3KooWExample",
 *   addresses: ["/ip4/127.0.0.1/tcp/6881", "/ip4/192.168.1.5/tcp/6881"],
 * });
 * info.state; // "shareable"
 * info.toml; // 'bootstrap_peers = ["/ip4/192.168.1.5/tcp/6881/p2p/12D3KooWExample"]'
 * ```
 * @module
 */

/** The node's state as far as sharing goes. */
export type ShareState = "shareable" | "no-shareable-address" | "daemon-not-running";

/** The answer of `share-info` and of the dashboard's `/api/share-info`. */
export interface ShareInfo {
  state: ShareState;
  /** The node's peer id (null when unknown). */
  peerId: string | null;
  /** Shareable addresses, each ending in `/p2p/<peerId>`. */
  addresses: string[];
  /** `bootstrap_peers = [...]` for a neighbour's config.toml (null when nothing to share). */
  toml: string | null;
  /** `(bootstrap-peers '(...))` for a neighbour's guix-p2p service (null when nothing to share). */
  scheme: string | null;
  /** One sentence explaining the state and, when not shareable, what to change. */
  detail: string;
}

/** What the running node reports about itself. */
export interface NodeAddresses {
  /** The libp2p peer id, null while the P2P node is not running. */
  peerId: string | null;
  /** Listen and announce multiaddrs as the node reports them (any order, duplicates allowed). */
  addresses: readonly string[];
}

/** True when others can dial `address` (not loopback, unspecified or IPv6 link-local). */
export function isShareableAddress(address: string): boolean {
  const parts = address.split("/");
  const [, proto, host] = parts;
  if (parts[0] !== "" || !proto || !host) return false;
  switch (proto) {
    case "ip4":
      return !host.startsWith("127.") && host !== "0.0.0.0";
    case "ip6": {
      const h = host.toLowerCase();
      return h !== "::" && h !== "::1" && !/^0*:(0*:)*0*1?$/.test(h) && !/^fe[89ab]/.test(h);
    }
    case "dns":
    case "dns4":
    case "dns6":
    case "dnsaddr":
      return host.toLowerCase() !== "localhost" && !host.toLowerCase().endsWith(".localhost");
    default:
      return false;
  }
}

/** The shareable addresses among `addresses`, deduplicated, each ending in `/p2p/<peerId>`. */
export function shareableAddresses(addresses: readonly string[], peerId: string): string[] {
  const own = `/p2p/${peerId}`;
  const out = new Set<string>();
  for (const raw of addresses) {
    const a = raw.trim().replace(/\/+$/, "");
    if (!isShareableAddress(a)) continue;
    out.add(a.endsWith(own) ? a : `${a}${own}`);
  }
  return [...out];
}

/** A TOML basic string (multiaddrs are ASCII; quotes and backslashes are escaped anyway). */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** A Scheme string literal. */
function schemeString(s: string): string {
  return `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** The `bootstrap_peers` line of a config.toml listing `addresses`. */
export function tomlLine(addresses: readonly string[]): string {
  return `bootstrap_peers = [${addresses.map(tomlString).join(", ")}]`;
}

/** The `bootstrap-peers` field of a guix-p2p service configuration listing `addresses`. */
export function schemeField(addresses: readonly string[]): string {
  return `(bootstrap-peers '(${addresses.map(schemeString).join(" ")}))`;
}

/** Share information for a running node, or `undefined` when the daemon does not answer. */
export function shareInfo(node: NodeAddresses | undefined): ShareInfo {
  if (!node) {
    return {
      state: "daemon-not-running",
      peerId: null,
      addresses: [],
      toml: null,
      scheme: null,
      detail: "the guix-p2p daemon is not running (or its control socket cannot be reached)",
    };
  }
  if (!node.peerId) {
    return {
      state: "no-shareable-address",
      peerId: null,
      addresses: [],
      toml: null,
      scheme: null,
      detail: "the daemon's P2P node is not running",
    };
  }
  const addresses = shareableAddresses(node.addresses, node.peerId);
  if (addresses.length === 0) {
    const listed = [...new Set(node.addresses)].join(" ");
    return {
      state: "no-shareable-address",
      peerId: node.peerId,
      addresses: [],
      toml: null,
      scheme: null,
      detail: listed
        ? `the node listens only on addresses others cannot dial (${listed}); ` +
          `set listen = ["/ip4/0.0.0.0/tcp/6881"], or announce = ["/ip4/<LAN address>/tcp/6881"]`
        : 'the node has no listen address (listen = []); set listen = ["/ip4/0.0.0.0/tcp/6881"]',
    };
  }
  return {
    state: "shareable",
    peerId: node.peerId,
    addresses,
    toml: tomlLine(addresses),
    scheme: schemeField(addresses),
    detail: addresses.length === 1
      ? "neighbours can use this node as a bootstrap peer"
      : "neighbours can use this node as a bootstrap peer (keeping only the address on their network is enough)",
  };
}

/** `info` as the text `guix-p2p share-info` prints. */
export function formatShareInfo(info: ShareInfo): string[] {
  const head = info.peerId ? ` (peer id ${info.peerId})` : "";
  if (info.state !== "shareable") return [`${info.state}${head}: ${info.detail}`];
  return [
    `shareable${head}: ${info.detail}`,
    "",
    "Shareable addresses:",
    ...info.addresses.map((a) => `  ${a}`),
    "",
    "In a neighbour's config.toml:",
    `  ${info.toml}`,
    "",
    "In a neighbour's guix-p2p-configuration (Guix System):",
    `  ${info.scheme}`,
  ];
}
