/**
 * The daemons of the gateway benchmark, each a separate `bin/guix-p2p
 * --daemon` process on 127.0.0.1 (tests/support/swarm.ts): a bootstrap node
 * and one seeder serving the item from /nix/store, both restarted for each
 * P2P copy, and gateways started fresh for each measured copy (empty block
 * and narinfo caches). Also reads the P2P
 * traffic counters (`guix-p2p peers --json`) and the kernel's TCP byte
 * counters (`ss -tinp`) of a connection between two daemons.
 *
 * @example
 * ```ts
 * const swarm = new BenchSwarm(work, "/nix/store/…-item");
 * await swarm.fresh();
 * const gw = await startGateway(work, "gw-1", swarm.boot.address, { nix_upstream_urls: [url] });
 * ```
 * @module
 */
import { startNode, SWARM_DEFAULTS, type SwarmNode } from "../../tests/support/swarm.ts";
import { freePort, sh } from "../measure.ts";

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
 * The bootstrap node and the one seeder. {@linkcode fresh} (re)starts both:
 * a new bootstrap node (its DHT is in memory, so it starts empty) and the
 * seeder restarted on its cache directory (identity and seed index kept;
 * `seed` indexes the item the first time only). The "announced" line is a
 * debug line and a debug daemon also logs every block it serves, so the
 * seeder announces at `debug` and is then restarted at `info` on the same
 * port: the provider record stays valid. Gateways seed what they fetched
 * from peers and stay in the DHT as providers after they stop; a fresh swarm
 * per measured copy keeps the seeder the only provider.
 *
 * @example
 * ```ts
 * await using swarm = new BenchSwarm("/tmp/w", "/nix/store/…-item");
 * await swarm.fresh();
 * const gw = await startGateway("/tmp/w", "gw-1", swarm.boot.address, {});
 * ```
 */
export class BenchSwarm {
  #boot: SwarmNode | undefined;
  #seeder: SwarmNode | undefined;
  #round = 0;
  #port = freePort();
  #seeded = false;

  /** Describes the swarm of `work` for `storePath` (call {@linkcode fresh}). */
  constructor(readonly work: string, readonly storePath: string) {}

  /** The bootstrap node. @throws before the first {@linkcode fresh}. */
  get boot(): SwarmNode {
    if (!this.#boot) throw new Error("BenchSwarm: call fresh() first");
    return this.#boot;
  }

  /** The seeder (running at `info`). @throws before the first {@linkcode fresh}. */
  get seeder(): SwarmNode {
    if (!this.#seeder) throw new Error("BenchSwarm: call fresh() first");
    return this.#seeder;
  }

  /** Restarts both nodes; resolves once the seeder has announced the item to the new DHT. */
  async fresh(): Promise<void> {
    await this.stop();
    const n = ++this.#round;
    const boot = await startNode("boot", `${this.work}/boot-${n}`, settings({}));
    this.#boot = boot;
    const at = (level: string) =>
      settings({
        log_level: level,
        listen: [`/ip4/127.0.0.1/tcp/${this.#port}`],
        cache_dir: `${this.work}/seeder/cache`,
      });
    const first = await startNode(
      "seeder",
      `${this.work}/seeder-announce-${n}`,
      at("debug"),
      boot.address,
    );
    if (!this.#seeded) {
      const r = await first.cli(["seed", this.storePath]);
      if (r.code !== 0) throw new Error(`guix-p2p seed ${this.storePath}: ${r.stderr}`);
      this.#seeded = true;
    }
    await first.daemon.waitForLog(/announced /, 300_000);
    await first.daemon.stop();
    const seeder = await startNode("seeder", `${this.work}/seeder-${n}`, at("info"), boot.address);
    this.#seeder = seeder;
    if (seeder.peerId !== first.peerId) {
      throw new Error(`the seeder restarted as ${seeder.peerId}, not ${first.peerId}`);
    }
    const seeds = await seeder.json<{ storePath?: string }[]>(["seeds"]);
    if (!seeds.some((s) => s.storePath === this.storePath)) {
      throw new Error(`the seeder does not seed ${this.storePath}: ${JSON.stringify(seeds)}`);
    }
  }

  /** Stops both nodes. */
  async stop(): Promise<void> {
    await this.#seeder?.daemon.stop();
    await this.#boot?.daemon.stop();
    this.#seeder = this.#boot = undefined;
  }

  /** Stops both nodes. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
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
