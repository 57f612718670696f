/**
 * Every configuration key: its type, documented default and meaning. This
 * table is the single source for validation, `config init`, `config check`
 * and docs/configuration.md (a test keeps that file in sync).
 *
 * @example
 * ```ts
 * import { CONFIG_KEYS } from "./schema.ts";
 * CONFIG_KEYS.find((k) => k.key === "policy")?.defaultText; // '"p2p-first"'
 * ```
 * @module
 */
import { POLICIES, type Policy } from "../fetch/types.ts";
import {
  absPath,
  bool,
  bytes,
  duration,
  int,
  list,
  listenAddress,
  multiaddrText,
  nixPublicKey,
  oneOf,
  str,
  tcpListenMultiaddr,
  url,
  type ValueParser,
} from "./_values.ts";

/** What is seeded automatically after a substitution. */
export const AUTO_SEED = ["off", "p2p", "all"] as const;
/** An auto-seed mode. */
export type AutoSeed = typeof AUTO_SEED[number];

/** When peers are asked for narinfos (docs/protocol.md §6.5). */
export const NARINFO_PEERS = ["race", "fallback", "off"] as const;
/** Which narinfos are served to peers. */
export const NARINFO_SERVE = ["all", "seeded", "off"] as const;

/** Environment lookup used to compute defaults. */
export interface Env {
  /** Returns the variable's value or undefined. */
  get(name: string): string | undefined;
}

/** The effective configuration (TOML key names). */
export interface Config {
  store_dir: string;
  cache_dir: string;
  socket_path: string;
  socket_group: string;
  acl_path: string;
  log_level: "error" | "warn" | "info" | "debug";

  substitute_urls: string[];
  policy: Policy;
  honour_client_substitute_urls: boolean;
  compression_preference: "auto" | "smallest" | "fastest";
  decompressor: "auto" | "builtin" | "external";
  narinfo_ttl: number;
  narinfo_negative_ttl: number;
  narinfo_error_ttl: number;
  http_connect_timeout: number;
  http_stall_timeout: number;
  http_parallelism: number;
  max_control_clients: number;

  listen: string[];
  announce: string[];
  bootstrap_peers: string[];
  mdns: boolean;
  dht_mode: "auto" | "server" | "client";
  dht_protocol: string;
  max_connections: number;
  connection_allowlist: string[];
  min_providers: number;
  discovery_timeout: number;
  max_peers_per_download: number;
  block_size: number;
  max_message_size: number;
  max_streams_per_peer: number;
  block_request_timeout: number;
  max_upload_rate: number;
  block_compression: "auto" | "always" | "never";
  bulk_lane: "lan" | "always" | "off";
  bulk_port: number;
  max_download_rate: number;
  cache_size: number;
  prefetch_bytes: number;
  narinfo_peers: typeof NARINFO_PEERS[number];
  narinfo_serve: typeof NARINFO_SERVE[number];
  narinfo_serve_rate: number;
  auto_seed: AutoSeed;
  seed_paths: string[];
  seed_profiles: string[];
  seed_index_rate: number;
  reprovide_interval: number;
  ban_threshold: number;
  ban_duration: number;
  known_peers_max: number;

  autonat: boolean;
  hole_punching: boolean;
  upnp: boolean;
  relay_client: "auto" | "off";
  relay_service: boolean;
  relay_max_reservations: number;
  relay_max_data: number;
  relay_max_duration: number;
  relay_circuit_rate: number;

  gateway_listen: string;
  nix_upstream_urls: string[];
  nix_trusted_public_keys: string[];
  nix_store_dir: string;
  gateway_priority: number;
  gateway_verify_first: "uncorroborated" | "never";

  dashboard_listen: string;
  dht_provider_records_max: number;
  dht_provider_records_per_peer: number;
  dht_provider_rate: number;
  dht_provider_burst: number;
  dht_provider_closest: number;
  dial_loopback: "auto" | "always" | "never";
  dial_allowlist: string[];
  block_stream_stall_timeout: number;
  narinfo_negative_cache_entries: number;
  helper_min_rate: number;
  helper_deadline_grace: number;
}

/** A configuration key's definition. */
export interface KeySpec<K extends keyof Config = keyof Config> {
  /** TOML key. */
  key: K;
  /** Documentation section. */
  section:
    | "General"
    | "HTTP substitutes"
    | "Peer-to-peer"
    | "NAT traversal"
    | "Nix gateway"
    | "Dashboard"
    | "Limits";
  /** What the key does (one or two sentences). */
  doc: string;
  /** How the default is shown in docs and `config init`. */
  defaultText: string;
  /** For environment-dependent defaults: a typical value shown (commented out) by `config init`. */
  example?: string;
  /** Computes the default from the environment and the keys before it. */
  default(env: Env, earlier: Partial<Config>): Config[K];
  /** Validates a TOML value. */
  parse: ValueParser<Config[K]>;
}

const GiB = 1024 ** 3;

function home(env: Env): string {
  return env.get("HOME") || "/root";
}

function def<K extends keyof Config>(spec: KeySpec<K>): KeySpec<K> {
  return spec;
}

/** All keys, in documentation order (a key's default may use the keys before it). */
export const CONFIG_KEYS: readonly KeySpec[] = [
  def({
    key: "store_dir",
    section: "General",
    doc: "The Guix store directory. Like Guix, the default honours NIX_STORE_DIR (then NIX_STORE).",
    defaultText: '"/gnu/store" (or $NIX_STORE_DIR)',
    example: '"/gnu/store"',
    default: (env) =>
      (env.get("NIX_STORE_DIR") || env.get("NIX_STORE") || "/gnu/store").replace(/\/+$/, ""),
    parse: absPath,
  }),
  def({
    key: "cache_dir",
    section: "General",
    doc:
      "Daemon state: node identity, known peers, narinfo cache, block cache. The service uses /var/cache/guix-p2p.",
    defaultText: '"$XDG_CACHE_HOME/guix-p2p" (else "~/.cache/guix-p2p")',
    example: '"/var/cache/guix-p2p"',
    default: (env) =>
      env.get("XDG_CACHE_HOME")
        ? `${env.get("XDG_CACHE_HOME")}/guix-p2p`
        : `${home(env)}/.cache/guix-p2p`,
    parse: absPath,
  }),
  def({
    key: "socket_path",
    section: "General",
    doc:
      "The daemon's control socket, used by the substitute helper and the admin CLI. Created with mode 0660.",
    defaultText: '"<cache_dir>/control.sock" (or $GUIX_P2P_SOCKET)',
    example: '"/var/cache/guix-p2p/control.sock"',
    default: (env, c) => env.get("GUIX_P2P_SOCKET") || `${c.cache_dir}/control.sock`,
    parse: absPath,
  }),
  def({
    key: "socket_group",
    section: "General",
    doc:
      'Group given to the control socket so that root (the helper) and admins can use it; "" keeps the daemon\'s own group.',
    defaultText: '""',
    default: () => "",
    parse: str,
  }),
  def({
    key: "acl_path",
    section: "General",
    doc:
      "The Guix ACL of trusted signing keys. Narinfos are accepted only when signed by one of these keys.",
    defaultText: '"$GUIX_CONFIGURATION_DIRECTORY/acl" (else "/etc/guix/acl")',
    example: '"/etc/guix/acl"',
    default: (env) => `${env.get("GUIX_CONFIGURATION_DIRECTORY") || "/etc/guix"}/acl`,
    parse: absPath,
  }),
  def({
    key: "log_level",
    section: "General",
    doc: "Daemon log verbosity on stderr.",
    defaultText: '"info"',
    default: () => "info" as const,
    parse: oneOf(["error", "warn", "info", "debug"] as const),
  }),

  def({
    key: "substitute_urls",
    section: "HTTP substitutes",
    doc:
      "Guix substitute servers, tried in order for narinfos and as the HTTP source of NARs. guix-daemon's own substitute-urls (passed to the helper) take precedence when set.",
    defaultText: '["https://bordeaux.guix.gnu.org", "https://ci.guix.gnu.org"]',
    default: () => ["https://bordeaux.guix.gnu.org", "https://ci.guix.gnu.org"],
    parse: list(url(true)),
  }),
  def({
    key: "policy",
    section: "HTTP substitutes",
    doc:
      'Where NARs come from: "p2p-first" (peers when enough providers are found quickly, else HTTP), "p2p-only", "http-first" (HTTP, peers when HTTP fails), "http-only".',
    defaultText: '"p2p-first"',
    default: () => "p2p-first" as const,
    parse: oneOf(POLICIES),
  }),
  def({
    key: "honour_client_substitute_urls",
    section: "HTTP substitutes",
    doc:
      "Use substitute URLs chosen by unprivileged guix clients (untrusted-substitute-urls), as Guix does; signatures are still required. false restricts HTTP to the trusted URLs.",
    defaultText: "true",
    default: () => true,
    parse: bool,
  }),
  def({
    key: "compression_preference",
    section: "HTTP substitutes",
    doc:
      'Which of a narinfo\'s NAR URLs to use: "smallest" download, "fastest" to decompress (none/zstd first), or "auto" (zstd unless another is much smaller).',
    defaultText: '"auto"',
    default: () => "auto" as const,
    parse: oneOf(["auto", "smallest", "fastest"] as const),
  }),
  def({
    key: "decompressor",
    section: "HTTP substitutes",
    doc:
      'Decoders for xz, lzip and bzip2: "external" (xz/lzip/bzip2 programs), "builtin" (in-process), "auto" (external when on PATH).',
    defaultText: '"auto"',
    default: () => "auto" as const,
    parse: oneOf(["auto", "builtin", "external"] as const),
  }),
  def({
    key: "narinfo_ttl",
    section: "HTTP substitutes",
    doc: "How long a found narinfo is cached (a server's Cache-Control max-age wins).",
    defaultText: '"36h"',
    default: () => 36 * 3600,
    parse: duration(),
  }),
  def({
    key: "narinfo_negative_ttl",
    section: "HTTP substitutes",
    doc: "How long a 404 (not on that server) is cached.",
    defaultText: '"2m"',
    default: () => 120,
    parse: duration(),
  }),
  def({
    key: "narinfo_error_ttl",
    section: "HTTP substitutes",
    doc: "How long a server error or unreachable server is remembered for a narinfo.",
    defaultText: '"1m"',
    default: () => 60,
    parse: duration(),
  }),
  def({
    key: "http_connect_timeout",
    section: "HTTP substitutes",
    doc: "Time allowed to connect and receive response headers before trying the next server.",
    defaultText: '"10s"',
    default: () => 10,
    parse: duration(3600),
  }),
  def({
    key: "http_stall_timeout",
    section: "HTTP substitutes",
    doc: "A download that receives no bytes for this long is abandoned (next URL or source).",
    defaultText: '"30s"',
    default: () => 30,
    parse: duration(3600),
  }),
  def({
    key: "http_parallelism",
    section: "HTTP substitutes",
    doc: "Concurrent narinfo requests per server when answering a batched `have`.",
    defaultText: "16",
    default: () => 16,
    parse: int(1, 256),
  }),
  def({
    key: "max_control_clients",
    section: "HTTP substitutes",
    doc: "Concurrent control-socket connections (helpers and CLI) the daemon serves.",
    defaultText: "128",
    default: () => 128,
    parse: int(1, 4096),
  }),

  def({
    key: "listen",
    section: "Peer-to-peer",
    doc: "libp2p listen multiaddrs (TCP). An empty list disables inbound connections.",
    defaultText: '["/ip4/0.0.0.0/tcp/6881"]',
    default: () => ["/ip4/0.0.0.0/tcp/6881"],
    parse: list(tcpListenMultiaddr),
  }),
  def({
    key: "announce",
    section: "Peer-to-peer",
    doc:
      "Addresses advertised to other peers instead of the listen addresses (e.g. a public address behind NAT).",
    defaultText: "[]",
    default: () => [],
    parse: list(multiaddrText(false)),
  }),
  def({
    key: "bootstrap_peers",
    section: "Peer-to-peer",
    doc: "Peers dialled at start to join the DHT; each must end in /p2p/<peer id>.",
    defaultText: "[]",
    default: () => [],
    parse: list(multiaddrText(true)),
  }),
  def({
    key: "mdns",
    section: "Peer-to-peer",
    doc: "Discover peers on the local network with mDNS.",
    defaultText: "true",
    default: () => true,
    parse: bool,
  }),
  def({
    key: "dht_mode",
    section: "Peer-to-peer",
    doc:
      'Kademlia mode: "server" answers DHT queries, "client" only asks, "auto" is server when the node listens.',
    defaultText: '"auto"',
    default: () => "auto" as const,
    parse: oneOf(["auto", "server", "client"] as const),
  }),
  def({
    key: "dht_protocol",
    section: "Peer-to-peer",
    doc: "Kademlia protocol id, kept apart from the IPFS DHT.",
    defaultText: '"/guix-p2p/kad/1.0.0"',
    default: () => "/guix-p2p/kad/1.0.0",
    parse: (v) => {
      const s = str(v);
      if (!/^\/[\x21-\x7e]+$/.test(s)) {
        throw new Error(`expected a protocol id like "/x/kad/1.0.0", got "${s}"`);
      }
      return s;
    },
  }),
  def({
    key: "max_connections",
    section: "Peer-to-peer",
    doc: "Upper bound on open libp2p connections.",
    defaultText: "64",
    default: () => 64,
    parse: int(1, 10000),
  }),
  def({
    key: "connection_allowlist",
    section: "Peer-to-peer",
    doc:
      'Networks exempt from connection limits and the per-host connection rate limit, as multiaddr prefixes (e.g. "/ip4/10.0.0.0/ipcidr/8" for a cluster, "/ip4/127.0.0.0/ipcidr/8" for tests).',
    defaultText: "[]",
    default: () => [],
    parse: list(multiaddrText(false)),
  }),
  def({
    key: "min_providers",
    section: "Peer-to-peer",
    doc:
      "Providers needed before a NAR is fetched from peers (and, with p2p-only, before `have` claims it).",
    defaultText: "1",
    default: () => 1,
    parse: int(1, 64),
  }),
  def({
    key: "discovery_timeout",
    section: "Peer-to-peer",
    doc:
      "Base time to look for providers before falling back to HTTP under p2p-first; larger NARs get proportionally more.",
    defaultText: '"2s"',
    default: () => 2,
    parse: duration(600),
  }),
  def({
    key: "max_peers_per_download",
    section: "Peer-to-peer",
    doc: "How many providers one download uses at once.",
    defaultText: "8",
    default: () => 8,
    parse: int(1, 64),
  }),
  def({
    key: "block_size",
    section: "Peer-to-peer",
    doc:
      "Block size used when this node indexes a NAR for seeding (a power of two, 16 KiB to 4 MiB).",
    defaultText: '"256KiB"',
    default: () => 256 * 1024,
    parse: (v) => {
      const n = bytes(16 * 1024, 4 * 1024 * 1024)(v);
      if ((n & (n - 1)) !== 0) throw new Error(`expected a power of two, got ${n}`);
      return n;
    },
  }),
  def({
    key: "max_message_size",
    section: "Peer-to-peer",
    doc: "Largest block-exchange message accepted from a peer; larger ones reset the stream.",
    defaultText: '"8MiB"',
    default: () => 8 * 1024 * 1024,
    parse: bytes(64 * 1024, 64 * 1024 * 1024),
  }),
  def({
    key: "max_streams_per_peer",
    section: "Peer-to-peer",
    doc: "Concurrent block-exchange streams accepted from one peer.",
    defaultText: "16",
    default: () => 16,
    parse: int(1, 1024),
  }),
  def({
    key: "block_request_timeout",
    section: "Peer-to-peer",
    doc: "A block request unanswered after this long is given to another peer.",
    defaultText: '"20s"',
    default: () => 20,
    parse: duration(600),
  }),
  def({
    key: "block_compression",
    section: "Peer-to-peer",
    doc:
      'Whether blocks are sent zstd-compressed (when that is smaller): "auto" compresses except to peers on this host (loopback), where it only costs CPU on both sides; "always"; "never".',
    defaultText: '"auto"',
    default: () => "auto" as const,
    parse: oneOf(["auto", "always", "never"] as const),
  }),
  def({
    key: "bulk_lane",
    section: "Peer-to-peer",
    doc:
      'Where block data goes over a bulk lane — a plain TCP connection opened with a one-time ticket from the Noise-encrypted block stream, costing a fraction of the CPU — instead of the encrypted stream (docs/protocol.md §3.7). Integrity is unchanged (every block and NAR is checked against its hashes; a bad one on the lane closes the lane, not the peer\'s standing, and is fetched again encrypted), but the bytes are not encrypted: someone on the path can see which items you fetch. "lan": only with peers on the local network (loopback, link-local, private IPv4, unique-local IPv6) over a direct connection; "always": with every directly connected peer; "off": never.',
    defaultText: '"lan"',
    default: () => "lan" as const,
    parse: oneOf(["lan", "always", "off"] as const),
  }),
  def({
    key: "bulk_port",
    section: "Peer-to-peer",
    doc:
      "TCP port of the bulk-lane listener, on the hosts of `listen`; 0 picks a free port (let it through the firewall with the libp2p port, or set one here).",
    defaultText: "0",
    default: () => 0,
    parse: int(0, 65535),
  }),
  def({
    key: "max_upload_rate",
    section: "Peer-to-peer",
    doc:
      'Upload cap for serving peers, bytes per second ("20MB/s"); 0 is unlimited. Shared fairly across peers.',
    defaultText: "0",
    default: () => 0,
    parse: bytes(0, 1e12, true),
  }),
  def({
    key: "max_download_rate",
    section: "Peer-to-peer",
    doc: "Download cap for P2P transfers, bytes per second; 0 is unlimited.",
    defaultText: "0",
    default: () => 0,
    parse: bytes(0, 1e12, true),
  }),
  def({
    key: "cache_size",
    section: "Peer-to-peer",
    doc:
      "Cap on the block cache (NARs downloaded from peers or HTTP, kept to seed); least recently used entries are evicted. Seeds read from the store do not count.",
    defaultText: '"10GiB"',
    default: () => 10 * GiB,
    parse: bytes(0, 1024 ** 5),
  }),
  def({
    key: "prefetch_bytes",
    section: "Peer-to-peer",
    doc:
      "When a closure's narinfos are asked for (guix-daemon's `have`/`info`, Nix's narinfo requests), the small NARs (up to 4 MiB) that peers have are fetched ahead, up to this many bytes per batch, so the substitutions that follow find them verified in the cache. \"0\" only looks the providers up.",
    defaultText: '"512MiB"',
    default: () => 512 * 1024 * 1024,
    parse: bytes(0, 1024 ** 4),
  }),
  def({
    key: "narinfo_peers",
    section: "Peer-to-peer",
    doc:
      'Signed narinfos from peers (checked against the ACL or the Nix keys like those from servers): "race" (connected peers are asked too when the servers have not answered within 50 ms; the first valid answer wins), "fallback" (only for what the servers did not give), "off". Either way the DHT is searched for what no server could give because it was unreachable.',
    defaultText: '"race"',
    default: () => "race" as const,
    parse: oneOf(NARINFO_PEERS),
  }),
  def({
    key: "narinfo_serve",
    section: "Peer-to-peer",
    doc:
      'Which verified narinfos peers may ask this node for: "all" it holds (what it looked up, substituted or seeds: peers learn which store paths were looked up here), "seeded" (only those of items it seeds), "off".',
    defaultText: '"all"',
    default: () => "all" as const,
    parse: oneOf(NARINFO_SERVE),
  }),
  def({
    key: "auto_seed",
    section: "Peer-to-peer",
    doc:
      'Seed what this machine substituted, from the store item itself: "all" (from peers and over HTTP, so that neighbours get from this machine what it downloaded, as the original guix-p2p does with auto_seed_downloads set to true), "p2p" (only what came from peers), "off".',
    defaultText: '"all"',
    default: () => "all" as const,
    parse: oneOf(AUTO_SEED),
  }),
  def({
    key: "seed_paths",
    section: "Peer-to-peer",
    doc: "Store items always seeded (read from the store itself, never copied).",
    defaultText: "[]",
    default: () => [],
    parse: list(absPath),
  }),
  def({
    key: "seed_profiles",
    section: "Peer-to-peer",
    doc:
      'Profiles whose whole closure is seeded, e.g. ["/run/current-system/profile", "/var/guix/profiles/per-user/alice/guix-profile"]; checked every 10 s and seeded again when they point to a new generation (docs/sharing.md).',
    defaultText: "[]",
    default: () => [],
    parse: (v) => {
      const profiles = list(absPath)(v);
      if (profiles.length > 64) throw new Error(`at most 64 profiles, got ${profiles.length}`);
      return profiles;
    },
  }),
  def({
    key: "seed_index_rate",
    section: "Peer-to-peer",
    doc:
      'Read rate when indexing store items for seeding (profiles, closures, the store, HTTP substitutions), bytes per second ("64MiB/s"); 0 is unlimited. Items are indexed one at a time.',
    defaultText: '"64MiB/s"',
    default: () => 64 * 1024 * 1024,
    parse: bytes(0, 1e12, true),
  }),
  def({
    key: "reprovide_interval",
    section: "Peer-to-peer",
    doc: "How often provider records of seeded items are refreshed in the DHT.",
    defaultText: '"12h"',
    default: () => 12 * 3600,
    parse: duration(),
  }),
  def({
    key: "ban_threshold",
    section: "Peer-to-peer",
    doc: "Faults (bad blocks, lying manifests) after which a peer is banned.",
    defaultText: "3",
    default: () => 3,
    parse: int(1, 1000),
  }),
  def({
    key: "ban_duration",
    section: "Peer-to-peer",
    doc: "How long a banned peer is ignored.",
    defaultText: '"24h"',
    default: () => 24 * 3600,
    parse: duration(),
  }),
  def({
    key: "known_peers_max",
    section: "Peer-to-peer",
    doc: "Peers remembered in cache_dir and re-dialled after a restart.",
    defaultText: "200",
    default: () => 200,
    parse: int(0, 100000),
  }),

  def({
    key: "autonat",
    section: "NAT traversal",
    doc:
      "AutoNAT: ask peers to dial this node's public addresses back, and answer their requests. libp2p announces a public address only once a peer confirmed it; `status` shows the reachability (docs/protocol.md, NAT traversal).",
    defaultText: "true",
    default: () => true,
    parse: bool,
  }),
  def({
    key: "hole_punching",
    section: "NAT traversal",
    doc:
      "DCUtR: turn a connection that came through a relay into a direct one when either side can be dialled.",
    defaultText: "true",
    default: () => true,
    parse: bool,
  }),
  def({
    key: "upnp",
    section: "NAT traversal",
    doc:
      "While the node is not publicly reachable, ask the home router (UPnP IGD) to forward the listen port and announce the mapped address. Routers without UPnP are searched for once a minute, quietly.",
    defaultText: "true",
    default: () => true,
    parse: bool,
  }),
  def({
    key: "relay_client",
    section: "NAT traversal",
    doc:
      '"auto": while the node is not publicly reachable, hold a reservation on up to two relays (peers with relay_service on) and announce the relayed addresses, so peers behind other NATs reach it. "off" never reserves.',
    defaultText: '"auto"',
    default: () => "auto" as const,
    parse: oneOf(["auto", "off"] as const),
  }),
  def({
    key: "relay_service",
    section: "NAT traversal",
    doc:
      "Offer a circuit relay (v2) to peers behind NAT, within the limits below. Meant for nodes with a public address.",
    defaultText: "false",
    default: () => false,
    parse: bool,
  }),
  def({
    key: "relay_max_reservations",
    section: "NAT traversal",
    doc: "With relay_service: peers that may hold a reservation (a relayed address) at once.",
    defaultText: "16",
    default: () => 16,
    parse: int(1, 4096),
  }),
  def({
    key: "relay_max_data",
    section: "NAT traversal",
    doc:
      "With relay_service: bytes (both directions) one relayed connection may carry before the relay closes it.",
    defaultText: '"16MiB"',
    default: () => 16 * 1024 * 1024,
    parse: bytes(4096, 1024 ** 4),
  }),
  def({
    key: "relay_max_duration",
    section: "NAT traversal",
    doc: "With relay_service: how long one relayed connection may stay open.",
    defaultText: '"2m"',
    default: () => 120,
    parse: (v) => {
      const seconds = duration(24 * 3600)(v);
      if (seconds < 1) throw new Error(`expected at least 1s, got ${seconds}s`);
      return seconds;
    },
  }),
  def({
    key: "relay_circuit_rate",
    section: "NAT traversal",
    doc: "With relay_service: relayed connections one peer may open through this node per minute.",
    defaultText: "6",
    default: () => 6,
    parse: int(1, 10000),
  }),

  def({
    key: "gateway_listen",
    section: "Nix gateway",
    doc:
      'Loopback HOST:PORT of the binary-cache HTTP gateway for Nix (and Guix clients without the extension); "" disables it.',
    defaultText: '"127.0.0.1:8380"',
    default: () => "127.0.0.1:8380",
    parse: listenAddress,
  }),
  def({
    key: "nix_upstream_urls",
    section: "Nix gateway",
    doc: "Nix binary caches whose narinfos the gateway relays (and whose NARs it falls back to).",
    defaultText: '["https://cache.nixos.org"]',
    default: () => ["https://cache.nixos.org"],
    parse: list(url(true)),
  }),
  def({
    key: "nix_trusted_public_keys",
    section: "Nix gateway",
    doc: "Nix signing keys whose narinfos the gateway relays; anything else is refused.",
    defaultText: '["cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="]',
    default: () => ["cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="],
    parse: list(nixPublicKey),
  }),
  def({
    key: "nix_store_dir",
    section: "Nix gateway",
    doc: "The Nix store directory (the gateway's StoreDir, and where Nix items are seeded from).",
    defaultText: '"/nix/store"',
    default: () => "/nix/store",
    parse: absPath,
  }),
  def({
    key: "gateway_priority",
    section: "Nix gateway",
    doc: "Priority announced in /nix-cache-info (lower is preferred; cache.nixos.org uses 40).",
    defaultText: "30",
    default: () => 30,
    parse: int(0, 1000),
  }),
  def({
    key: "gateway_verify_first",
    section: "Nix gateway",
    doc:
      'A NAR that only one peer vouches for (or that peers disagree on) is, with "uncorroborated", downloaded and checked against the NarHash before the gateway sends its first byte, so a lying peer costs time, never a failed Nix copy. "never" streams at once (faster cold copies); a lying peer then makes that copy fail (Nix still never imports bad bytes) and is banned.',
    defaultText: '"uncorroborated"',
    default: () => "uncorroborated" as const,
    parse: oneOf(["uncorroborated", "never"] as const),
  }),

  def({
    key: "dashboard_listen",
    section: "Dashboard",
    doc:
      'HOST:PORT of the read-only web dashboard and its JSON API (docs/dashboard.md); "" disables it. It has no authentication: keep it on loopback (127.0.0.1, [::1], localhost). Any other address must be set here explicitly; the daemon then warns that whoever can reach it sees the node\'s peers, transfers and seeds.',
    defaultText: '"127.0.0.1:6880"',
    default: () => "127.0.0.1:6880",
    parse: listenAddress,
  }),
  // Bounds on what remote peers, local clients and the daemon can make us spend
  // (docs/security.md).
  def({
    key: "dht_provider_records_max",
    section: "Limits",
    doc:
      "DHT provider records from other peers this node keeps in all (our own are not counted); more are refused.",
    defaultText: "100000",
    default: () => 100_000,
    parse: int(0, 10_000_000),
  }),
  def({
    key: "dht_provider_records_per_peer",
    section: "Limits",
    doc: "DHT provider records kept from any one peer.",
    defaultText: "10000",
    default: () => 10_000,
    parse: int(0, 10_000_000),
  }),
  def({
    key: "dht_provider_rate",
    section: "Limits",
    doc:
      "Provider records (ADD_PROVIDER) accepted per second from one peer, on average; past it they are refused, and a peer that keeps sending is disconnected and penalised.",
    defaultText: "50",
    default: () => 50,
    parse: int(1, 1_000_000),
  }),
  def({
    key: "dht_provider_burst",
    section: "Limits",
    doc: "Provider records one peer may send at once before `dht_provider_rate` applies.",
    defaultText: "1000",
    default: () => 1000,
    parse: int(1, 10_000_000),
  }),
  def({
    key: "dht_provider_closest",
    section: "Limits",
    doc:
      "A provider record is kept only when fewer than this many peers of the routing table are XOR-closer to its key than this node (Kademlia stores a record on the 20 closest).",
    defaultText: "40",
    default: () => 40,
    parse: int(1, 100_000),
  }),
  def({
    key: "dial_loopback",
    section: "Limits",
    doc:
      'Whether loopback addresses learned from peers (identify, DHT, peer book) are dialled: "auto" only when one of our own listen, announce or bootstrap addresses is loopback (single-host swarms, tests). Link-local addresses are never dialled unless in `dial_allowlist`; private LAN ranges always are.',
    defaultText: '"auto"',
    default: () => "auto" as const,
    parse: oneOf(["auto", "always", "never"] as const),
  }),
  def({
    key: "dial_allowlist",
    section: "Limits",
    doc:
      'Networks, as multiaddr prefixes (e.g. "/ip6/fe80::/ipcidr/10"), dialled even when loopback or link-local.',
    defaultText: "[]",
    default: () => [],
    parse: list(multiaddrText(false)),
  }),
  def({
    key: "block_stream_stall_timeout",
    section: "Limits",
    doc:
      "A block stream whose reader takes nothing for this long is closed and its send window freed (slow-reader protection).",
    defaultText: '"30s"',
    default: () => 30,
    parse: duration(),
  }),
  def({
    key: "narinfo_negative_cache_entries",
    section: "Limits",
    doc:
      "Store paths remembered as missing (404) per upstream, in memory only (least recently used dropped first).",
    defaultText: "10000",
    default: () => 10_000,
    parse: int(0, 10_000_000),
  }),
  def({
    key: "helper_min_rate",
    section: "Limits",
    doc:
      "The substitute helper gives up on a NAR that arrives slower than this on average (deadline = NarSize / rate + `helper_deadline_grace`).",
    defaultText: '"16KiB/s"',
    default: () => 16 * 1024,
    parse: bytes(1, 1e12, true),
  }),
  def({
    key: "helper_deadline_grace",
    section: "Limits",
    doc: "Time added to the helper's per-NAR deadline (discovery, fallbacks, slow starts).",
    defaultText: '"10m"',
    default: () => 600,
    parse: duration(),
  }),
  def({
    key: "narinfo_serve_rate",
    section: "Limits",
    doc:
      "Narinfos (hash parts asked) answered per second to one peer, on average, with bursts of 4096 or two seconds' worth; past it requests get a busy error.",
    defaultText: "2000",
    default: () => 2000,
    parse: int(1, 1_000_000),
  }),
] as KeySpec[];

/** Looks up a key's definition. */
export function keySpec(key: string): KeySpec | undefined {
  return CONFIG_KEYS.find((k) => k.key === key);
}
