/**
 * Shared parts of the P2P benchmarks (`bench/p2p_*.ts`), beside the world of
 * `tests/support/p2p_world.ts` (a signed narinfo cache whose server refuses
 * NARs, so every NAR byte comes from peers): store items made from random
 * data or real binaries, daemon swarms from `tests/support/swarm.ts`,
 * substitutions through the guix-daemon emulator and the real helper, and
 * process figures from `/proc`.
 *
 * @example
 * ```ts
 * import { p2pWorld } from "../tests/support/p2p_world.ts";
 * await using world = await p2pWorld("/tmp/p2p-bench");
 * const src = await randomTree(`${world.root}/src`, 2 ** 30);
 * const item = await world.item(src, "big-1.0", `${world.root}/leecher/store`);
 * ```
 * @module
 */
import { ControlClient } from "../src/control/client.ts";
import { connectControlSocket } from "../src/control/deno_socket.ts";
import { helperAgent } from "../tests/support/daemon_proc.ts";
import { startNode, type SwarmNode } from "../tests/support/swarm.ts";
import { writeLargeFile } from "../tests/support/tree_gen.ts";
import { startProfile, summarize } from "./_p2p_profile.ts";

/** 2^20. */
export const MiB = 1 << 20;

/** Writes `bytes` of incompressible data as a tree of a few large files; returns `dir`. */
export async function randomTree(dir: string, bytes: number, seed = 1): Promise<string> {
  await Deno.mkdir(`${dir}/lib`, { recursive: true });
  const files = Math.max(1, Math.ceil(bytes / (256 * MiB)));
  for (let i = 0; i < files; i++) {
    const size = Math.min(Math.ceil(bytes / files), bytes - i * Math.ceil(bytes / files));
    await writeLargeFile(`${dir}/lib/blob-${i}.so`, size, seed * 1000 + i + 1, true);
  }
  return dir;
}

/**
 * Copies real binaries (regular files of `/usr/lib/x86_64-linux-gnu`,
 * `/usr/bin`, `/usr/lib` in sorted walk order) into `dir` until `bytes`
 * bytes; returns the byte count copied.
 */
export async function binaryTree(dir: string, bytes: number): Promise<number> {
  let total = 0;
  const roots = ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/libexec", "/usr/lib"];
  const seen = new Set<string>();
  const walk = async (from: string, to: string): Promise<void> => {
    const entries = [];
    try {
      for await (const e of Deno.readDir(from)) entries.push(e);
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (total >= bytes) return;
      const src = `${from}/${e.name}`;
      if (seen.has(src)) continue;
      seen.add(src);
      if (e.isDirectory) {
        await walk(src, `${to}/${e.name}`);
      } else if (e.isFile) {
        let st;
        try {
          st = await Deno.stat(src);
        } catch {
          continue;
        }
        if (st.size === 0 || total + st.size > bytes) continue;
        await Deno.mkdir(to, { recursive: true });
        try {
          await Deno.copyFile(src, `${to}/${e.name}`);
        } catch {
          continue;
        }
        await Deno.chmod(`${to}/${e.name}`, (st.mode ?? 0o644) & 0o111 ? 0o755 : 0o644);
        total += st.size;
      }
    }
  };
  for (const r of roots) await walk(r, `${dir}${r}`);
  return total;
}

/**
 * Hard-links (or copies) `source` into `node`'s store as `baseName` and seeds
 * it. With `waitAnnounced` (needs `log_level = "debug"`), resolves once the
 * provider record is published; otherwise use {@linkcode waitForProviders}.
 */
export async function seedOn(
  node: SwarmNode,
  source: string,
  baseName: string,
  options: { waitAnnounced?: boolean } = {},
): Promise<void> {
  const dest = `${node.store}/${baseName}`;
  const out = await new Deno.Command("cp", { args: ["-al", source, dest] }).output();
  if (!out.success) {
    const copy = await new Deno.Command("cp", { args: ["-a", source, dest] }).output();
    if (!copy.success) {
      throw new Error(`cp ${source} ${dest}: ${new TextDecoder().decode(copy.stderr)}`);
    }
  }
  const announced = node.daemon.log.filter((l) => /announced /.test(l)).length;
  const r = await node.cli(["seed", dest]);
  if (r.code !== 0) throw new Error(`seed on ${node.name}: ${r.stderr}`);
  if (options.waitAnnounced) await waitForCount(node, /announced /, announced + 1, 120_000);
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

/** Waits until `node` has logged `count` lines matching `re` (bounded). */
export async function waitForCount(
  node: SwarmNode,
  re: RegExp,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (node.daemon.log.filter((l) => re.test(l)).length < count) {
    if (Date.now() > deadline) {
      throw new Error(
        `${node.name}: fewer than ${count} log lines matching ${re} in ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a node (see `tests/support/swarm.ts`) at the default log level
 * (`info`; the test swarms use `debug`, whose line per block costs the
 * daemons ~5 % CPU) unless `settings` says otherwise.
 */
export function benchNode(
  name: string,
  dir: string,
  settings: Record<string, unknown>,
  bootstrap?: string,
): Promise<SwarmNode> {
  return startNode(name, dir, { log_level: "info", ...settings }, bootstrap);
}

/** The outcome of one substitution. */
export interface Substitution {
  status: string;
  /** From sending `substitute` to reading the status (fetch, verify, restore, rename). */
  ms: number;
  /** The helper's peak RSS (KiB) and CPU seconds, read just before it exits. */
  helperHwmKiB: number;
  helperCpu: number;
  /** With `profile`: the helper's CPU profile summary. */
  helperProfile?: string;
}

/** Substitutes `storePath` on `node` through the guix-daemon emulator and the real helper. */
export async function substitute(
  node: SwarmNode,
  storePath: string,
  options: { timeoutMs?: number; profile?: boolean } = {},
): Promise<Substitution> {
  await using s = helperAgent("substitute", node.daemon, node.store);
  const profile = options.profile ? await startProfile(s.child.pid, { waitMs: 10_000 }) : undefined;
  const t0 = performance.now();
  const out = await s.substitute(storePath, storePath, options.timeoutMs ?? 600_000);
  const ms = performance.now() - t0;
  const pid = s.child.pid;
  const helper = await procStats(pid).catch(() => ({ hwmKiB: 0, rssKiB: 0, cpu: 0 }));
  return {
    status: out.status,
    ms,
    helperHwmKiB: helper.hwmKiB,
    helperCpu: helper.cpu,
    ...(profile ? { helperProfile: summarize(await profile.stop(), 30) } : {}),
  };
}

/** Peak and current RSS (KiB) and CPU seconds (user + system) of a process. */
export async function procStats(
  pid: number,
): Promise<{ hwmKiB: number; rssKiB: number; cpu: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { hwmKiB: kib("VmHWM"), rssKiB: kib("VmRSS"), cpu: ticks / 100 };
}

/** The 1-minute load average. */
export async function loadAverage(): Promise<number> {
  return Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
}

/** Decimal MB/s. */
export function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Percentile (nearest rank) of numbers. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Prints a markdown table. */
export function table(head: string[], rows: (string | number)[][]): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`;
  console.log(line(head));
  console.log(`| ${w.map((n) => "-".repeat(n)).join(" | ")} |`);
  for (const r of cells.slice(1)) console.log(line(r));
}
