/**
 * The daemons of the gateway benchmark, each a separate `bin/guix-p2p
 * --daemon` process on 127.0.0.1 (tests/support/swarm.ts): a bootstrap node,
 * one seeder serving the item from /nix/store, and gateways started fresh for
 * each measured copy (empty block and narinfo caches). Also reads the P2P
 * traffic counters (`guix-p2p peers --json`) and the kernel's TCP byte
 * counters (`ss -tinp`) of a connection between two daemons.
 *
 * @example
 * ```ts
 * const boot = await startBootstrap(work);
 * const seeder = await startSeeder(work, boot.address, "/nix/store/…-item");
 * const gw = await startGateway(work, "gw-1", boot.address, { nix_upstream_urls: [url] });
 * ```
 * @module
 */
import { startNode, SWARM_DEFAULTS, type SwarmNode } from "../tests/support/swarm.ts";
import { freePort, sh } from "./_gw_measure.ts";

/**
 * A gateway daemon and its URL.
 *
 * @example
 * ```ts
 * const gw: GatewayNode = await startGateway(work, "gw-1", boot.address, {});
 * ```
 */
export interface GatewayNode extends SwarmNode {
  url: string;
  pid: number;
}

/** Settings of every benchmark daemon: the test defaults, but logging at `info` like a real one. */
function settings(extra: Record<string, unknown>): Record<string, unknown> {
  return { ...SWARM_DEFAULTS, log_level: "info", ...extra };
}

/**
 * Starts the bootstrap node (no gateway, seeds nothing).
 *
 * @example
 * ```ts
 * const boot = await startBootstrap("/tmp/w");
 * ```
 */
export function startBootstrap(work: string): Promise<SwarmNode> {
  return startNode("boot", `${work}/boot`, settings({}));
}

/**
 * Starts the seeder and seeds `storePath` from /nix/store. The "announced"
 * line is a debug line and a debug daemon also logs every block it serves, so
 * the seeder seeds and announces at `debug`, then is restarted at `info` on
 * the same cache directory (identity and seed index kept) and the same port:
 * the provider record in the DHT stays valid and nothing is indexed again.
 *
 * @example
 * ```ts
 * const seeder = await startSeeder("/tmp/w", boot.address, "/nix/store/…-item");
 * ```
 */
export async function startSeeder(
  work: string,
  bootstrap: string,
  storePath: string,
): Promise<SwarmNode> {
  const dir = `${work}/seeder`;
  const at = (level: string, port: number) =>
    settings({ log_level: level, listen: [`/ip4/127.0.0.1/tcp/${port}`] });
  const port = freePort();
  const first = await startNode("seeder", dir, at("debug", port), bootstrap);
  const r = await first.cli(["seed", storePath]);
  if (r.code !== 0) throw new Error(`guix-p2p seed ${storePath}: ${r.stderr}`);
  await first.daemon.waitForLog(/announced /, 300_000);
  await first.daemon.stop();
  const node = await startNode("seeder", dir, at("info", port), bootstrap);
  if (node.peerId !== first.peerId) {
    throw new Error(`the seeder restarted as ${node.peerId}, not ${first.peerId}`);
  }
  const seeds = await node.json<{ storePath?: string }[]>(["seeds"]);
  if (!seeds.some((s) => s.storePath === storePath)) {
    throw new Error(`the restarted seeder does not seed ${storePath}: ${JSON.stringify(seeds)}`);
  }
  return node;
}

/**
 * Starts a gateway daemon on a fresh port; resolves once its DHT routing table has `dhtPeers`.
 *
 * @example
 * ```ts
 * const gw = await startGateway("/tmp/w", "gw-1", boot.address, { policy: "p2p-first" });
 * ```
 */
export async function startGateway(
  work: string,
  name: string,
  bootstrap: string,
  extra: Record<string, unknown>,
  dhtPeers = 2,
): Promise<GatewayNode> {
  const port = freePort();
  const node = await startNode(
    name,
    `${work}/${name}`,
    settings({ gateway_listen: `127.0.0.1:${port}`, ...extra }),
    bootstrap,
  );
  await node.daemon.waitForLog(/binary-cache gateway on/);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await node.json<{ p2p?: { dhtPeers?: number } }>(["status"]);
    if ((status.p2p?.dhtPeers ?? 0) >= dhtPeers) break;
    if (Date.now() > deadline) {
      throw new Error(`${name}: DHT routing table below ${dhtPeers} peers after 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { ...node, url: `http://127.0.0.1:${port}`, pid: node.daemon.child.pid };
}

/**
 * One peer as `guix-p2p peers --json` reports it.
 *
 * @example
 * ```ts
 * const { bytesDown }: PeerReport = await peerTraffic(gw, seeder.peerId);
 * ```
 */
export interface PeerReport {
  peerId: string;
  bytesUp: number;
  bytesDown: number;
  blocksUp: number;
  blocksDown: number;
}

/**
 * The traffic counters `node` holds for `peerId` (zeros when it does not know the peer).
 *
 * @example
 * ```ts
 * const { bytesUp } = await peerTraffic(seeder, gw.peerId);
 * ```
 */
export async function peerTraffic(node: SwarmNode, peerId: string): Promise<PeerReport> {
  const peers = await node.json<PeerReport[]>(["peers"]);
  return peers.find((p) => p.peerId === peerId) ??
    { peerId, bytesUp: 0, bytesDown: 0, blocksUp: 0, blocksDown: 0 };
}

/**
 * TCP payload bytes `receiver` got from `sender`, per open connection (the
 * kernel's `bytes_received` from `ss -tinp`, so Noise, yamux and framing
 * included), keyed by the receiver's local and remote endpoints.
 *
 * @example
 * ```ts
 * const perSocket = await tcpBytesReceived(gw.pid, seeder.daemon.child.pid);
 * ```
 */
export async function tcpBytesReceived(
  receiverPid: number,
  senderPid: number,
): Promise<Map<string, number>> {
  const list = await sh("ss -tinpH");
  const sockets: { pid: number; local: string; peer: string; received: number }[] = [];
  const lines = list.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^ESTAB\s+\d+\s+\d+\s+(\S+)\s+(\S+)\s+users:\(\("[^"]*",pid=(\d+)/.exec(lines[i]!);
    if (!m) continue;
    const received = Number(/bytes_received:(\d+)/.exec(lines[i + 1] ?? "")?.[1] ?? 0);
    sockets.push({ pid: Number(m[3]), local: m[1]!, peer: m[2]!, received });
  }
  const senderEnds = new Set(sockets.filter((s) => s.pid === senderPid).map((s) => s.local));
  return new Map(
    sockets
      .filter((s) => s.pid === receiverPid && senderEnds.has(s.peer))
      .map((s) => [`${s.local} ${s.peer}`, s.received]),
  );
}

/**
 * Samples {@linkcode tcpBytesReceived} every `intervalMs` while a transfer
 * runs, so that connections closed before the end are counted too (each with
 * the last value seen).
 *
 * @example
 * ```ts
 * const meter = new TcpMeter(gw.pid, seeder.daemon.child.pid);
 * await copy();
 * const bytes = await meter.stop();
 * ```
 */
export class TcpMeter {
  #seen = new Map<string, number>();
  #timer: ReturnType<typeof setInterval>;
  #pending: Promise<void> = Promise.resolve();

  /** Starts sampling. */
  constructor(readonly receiverPid: number, readonly senderPid: number, intervalMs = 250) {
    this.#timer = setInterval(() => {
      this.#pending = this.#sample();
    }, intervalMs);
    this.#pending = this.#sample();
  }

  async #sample(): Promise<void> {
    const now = await tcpBytesReceived(this.receiverPid, this.senderPid).catch(() => new Map());
    for (const [key, bytes] of now) {
      this.#seen.set(key, Math.max(bytes, this.#seen.get(key) ?? 0));
    }
  }

  /** Stops sampling (after a last sample); resolves to the bytes of every connection seen. */
  async stop(): Promise<number> {
    clearInterval(this.#timer);
    await this.#pending;
    await this.#sample();
    return [...this.#seen.values()].reduce((a, b) => a + b, 0);
  }
}
