/**
 * Several guix-p2p daemons on 127.0.0.1, each a separate process with its own
 * store, cache and socket, that know only a bootstrap node's address.
 *
 * @module
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { resolveConfig } from "../../src/config/load.ts";
import { ControlClient } from "../../src/control/client.ts";
import { createNode, type P2pNode } from "../../src/p2p/node.ts";
import { connectControlSocket } from "../../src/control/deno_socket.ts";
import { narHashHex, parseNarHash } from "../../src/hash/nar_hash.ts";
import { type DaemonProcess, runCli, startDaemon } from "./daemon_proc.ts";

/** One member of the swarm. */
export interface SwarmNode {
  name: string;
  dir: string;
  store: string;
  daemon: DaemonProcess;
  peerId: string;
  address: string;
  /** Runs `guix-p2p ARGS --config <this node's config>`; returns stdout, stderr, code. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Runs a CLI command with `--json` and parses its output. */
  json<T = unknown>(args: string[]): Promise<T>;
}

/** Settings every test daemon gets. */
export const SWARM_DEFAULTS: Record<string, unknown> = {
  listen: ["/ip4/127.0.0.1/tcp/0"],
  connection_allowlist: ["/ip4/127.0.0.0/ipcidr/8"],
  mdns: false,
  log_level: "debug",
  discovery_timeout: "3s",
  block_request_timeout: "5s",
};

/** Options of {@linkcode startNode}. */
export interface StartNodeOptions {
  /** Runs the daemon through this command prefix (a network namespace: tests/support/netns.ts). */
  wrap?: (args: string[]) => string[];
  /**
   * The node's dialable address without /p2p (default: the first address it
   * logs). Needed for public addresses, which libp2p announces only once
   * AutoNAT has confirmed them.
   */
  address?: string;
  /** Bound on the daemon's start-up (default 30 s). */
  readyTimeoutMs?: number;
}

/** Starts a node in `dir`; `bootstrap` is a `/ip4/…/p2p/…` address. */
export async function startNode(
  name: string,
  dir: string,
  settings: Record<string, unknown>,
  bootstrap?: string,
  options: StartNodeOptions = {},
): Promise<SwarmNode> {
  const store = (settings.store_dir as string | undefined) ?? `${dir}/store`;
  await Deno.mkdir(store, { recursive: true });
  const daemon = await startDaemon(dir, {
    ...SWARM_DEFAULTS,
    store_dir: store,
    ...(bootstrap ? { bootstrap_peers: [bootstrap] } : {}),
    ...settings,
  }, {
    ...(options.wrap ? { wrap: options.wrap } : {}),
    ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
  });
  const line = await daemon.waitForLog(/P2P node (\S+) \(DHT \w+\) on (\S+)/);
  const [, peerId, logged] = /P2P node (\S+) \(DHT \w+\) on (\S+)/.exec(line)!;
  const address = options.address ?? logged!;
  const cli = (args: string[]) => runCli([...args, "--config", daemon.configPath]);
  return {
    name,
    dir,
    store,
    daemon,
    peerId: peerId!,
    address: address.includes("/p2p/") ? address : `${address}/p2p/${peerId}`,
    cli,
    async json<T>(args: string[]): Promise<T> {
      const r = await cli([...args, "--json"]);
      if (r.code !== 0 && !r.stdout.trim()) {
        throw new Error(`guix-p2p ${args.join(" ")}: ${r.stderr}`);
      }
      return JSON.parse(r.stdout) as T;
    },
  };
}

/** Starts `count` nodes: node 0 is the bootstrap node of the others. */
export async function startSwarm(
  root: string,
  count: number,
  settings: (i: number) => Record<string, unknown> = () => ({}),
): Promise<SwarmNode[] & AsyncDisposable> {
  const first = await startNode("n0", `${root}/n0`, settings(0));
  const rest = await Promise.all(
    Array.from(
      { length: count - 1 },
      (_, k) => startNode(`n${k + 1}`, `${root}/n${k + 1}`, settings(k + 1), first.address),
    ),
  );
  const nodes = [first, ...rest] as SwarmNode[] & AsyncDisposable;
  nodes[Symbol.asyncDispose] = async () => {
    await Promise.all(nodes.map((n) => n.daemon.stop().catch(() => {})));
  };
  return nodes;
}

/** Waits until `node`'s DHT routing table holds at least `n` peers (from its log, bounded). */
export async function waitForDht(node: SwarmNode, n: number, timeoutMs = 20_000): Promise<void> {
  await node.daemon.waitForLog(new RegExp(`DHT routing table: (${atLeast(n)}) peer`), timeoutMs);
}

function atLeast(n: number): string {
  // A regular expression alternative matching any decimal number >= n (n < 1000).
  const alts = [];
  for (let k = n; k < Math.max(n + 1, 100); k++) alts.push(String(k));
  return alts.join("|") + "|\\d{3,}";
}

/**
 * Copies the tree `src` into `node`'s store as `baseName` (hard links with
 * `link`, where the file system allows), seeds it through the CLI, and waits
 * (bounded) until the daemon logs a new announcement of a provider record —
 * which it does at `log_level = "debug"`, the swarms' level; `wait: false`
 * returns once the CLI has answered.
 */
export async function seedCopy(
  node: SwarmNode,
  src: string,
  baseName: string,
  options: { link?: boolean; wait?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  const dest = `${node.store}/${baseName}`;
  const copy = async (flags: string) => {
    const out = await new Deno.Command("cp", { args: [flags, src, dest] }).output();
    return { ok: out.success, err: new TextDecoder().decode(out.stderr) };
  };
  const done = options.link ? await copy("-al") : { ok: false, err: "" };
  if (!done.ok) {
    const cp = await copy("-a");
    if (!cp.ok) throw new Error(`cp ${src} ${dest}: ${cp.err}`);
  }
  const before = node.daemon.log.length;
  const r = await node.cli(["seed", dest]);
  if (r.code !== 0) throw new Error(`guix-p2p seed ${dest}: ${r.stderr}`);
  if (options.wait ?? true) {
    await node.daemon.waitForLog(/announced /, options.timeoutMs ?? 30_000, before);
  }
  return dest;
}

/**
 * Copies several items into `node`'s store, seeds them with one CLI call,
 * and waits (bounded) until each one's provider record is announced.
 */
export async function seedItems(
  node: SwarmNode,
  items: { source: string; baseName: string; narHash: string }[],
  timeoutMs = 30_000,
): Promise<void> {
  const dests = [];
  for (const item of items) {
    const dest = `${node.store}/${item.baseName}`;
    const cp = await new Deno.Command("cp", { args: ["-a", item.source, dest] }).output();
    if (!cp.success) throw new Error(`cp ${item.source}: ${new TextDecoder().decode(cp.stderr)}`);
    dests.push(dest);
  }
  const r = await node.cli(["seed", ...dests]);
  if (r.code !== 0) throw new Error(`guix-p2p seed: ${r.stderr}`);
  await Promise.all(items.map((item) => {
    const hex = narHashHex(parseNarHash(item.narHash)).slice(0, 16);
    return node.daemon.waitForLog(new RegExp(`announced ${hex}`), timeoutMs);
  }));
}

/**
 * Starts a node at the default log level (`info`; the test swarms use
 * `debug`, whose line per block costs the daemons ~5 % CPU) unless `settings`
 * says otherwise: for benchmarks.
 */
export function benchNode(
  name: string,
  dir: string,
  settings: Record<string, unknown>,
  bootstrap?: string,
): Promise<SwarmNode> {
  return startNode(name, dir, { log_level: "info", ...settings }, bootstrap);
}

/** Runs `fn` with a control-socket client of `node`. */
export async function withClient<T>(
  node: SwarmNode,
  fn: (client: ControlClient) => Promise<T>,
): Promise<T> {
  const client = new ControlClient(await connectControlSocket(node.daemon.socketPath));
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Waits (bounded) until `node`'s DHT routing table holds at least `n` peers. */
export async function waitForPeers(node: SwarmNode, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withClient(node, async (client) => {
    for (;;) {
      const s = await client.admin("status") as { p2p?: { dhtPeers?: number } };
      if ((s.p2p?.dhtPeers ?? 0) >= n) return;
      if (Date.now() > deadline) {
        throw new Error(`${node.name}: fewer than ${n} DHT peers after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

/**
 * Waits (bounded) until `node` finds a provider of `storePath` through the
 * DHT: its p2p-only lookup (the helper's `have`) returns the narinfo.
 */
export async function waitForProviders(
  node: SwarmNode,
  storePath: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withClient(node, async (client) => {
    for (;;) {
      const [item] = await client.lookup([storePath], { policy: "p2p-only" });
      if (item?.kind === "found") return;
      if (Date.now() > deadline) {
        throw new Error(`${node.name}: no provider of ${storePath} after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

/**
 * A bare libp2p node in the test process, started: no listen address, no mDNS, allowed to dial
 * loopback (a client with no address of its own dials loopback only because we say so) — the
 * attacker or raw client of the security and node tests. Stop it when done.
 */
export async function startRawClient(): Promise<P2pNode> {
  const config = resolveConfig({
    env: { get: () => undefined },
    overrides: [
      { key: "listen", value: [], flag: "-" },
      { key: "mdns", value: false, flag: "-" },
      { key: "dial_loopback", value: "always", flag: "-" },
    ],
  });
  const client = await createNode(config, await generateKeyPair("Ed25519"));
  await client.start();
  return client;
}
