/**
 * What every benchmark report shares: a bash runner (plain and timed), the
 * load average and a one-line description of the machine and tools; a
 * process's peak RSS and CPU from /proc (whole and per thread); best-of-N
 * bookkeeping of named contenders; medians, percentiles, rates, sizes and a
 * markdown table; a progress line on stderr; a free TCP port.
 *
 * @example
 * ```ts
 * import { loadavg, machine, procStats, sh } from "./measure.ts";
 * console.log(await sh("nproc"), loadavg(), await machine(["zstd --version"]));
 * console.log(procStats(Deno.pid).hwmKiB);
 * ```
 * @module
 */
const decoder = new TextDecoder();

/**
 * Runs a bash script with `pipefail`; resolves to its trimmed stdout; throws
 * with its exit code and stderr when it fails.
 *
 * @example
 * ```ts
 * const cores = await sh("nproc");
 * ```
 */
export async function sh(script: string, env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", `set -o pipefail; ${script}`],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `bash exited with ${out.code}: ${script.slice(0, 300)}\n${decoder.decode(out.stderr)}`,
    );
  }
  return decoder.decode(out.stdout).trim();
}

/**
 * The three load averages, e.g. `"1.20 0.80 0.50"`.
 *
 * @example
 * ```ts
 * console.log(loadavg()); // "1.20 0.80 0.50"
 * ```
 */
export function loadavg(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/**
 * The one-minute load average as a number.
 *
 * @example
 * ```ts
 * loadAverage(); // 1.2
 * ```
 */
export function loadAverage(): number {
  return Number(loadavg().split(" ")[0]);
}

/**
 * One line describing the machine (cores, CPU, RAM, OS, Deno) followed by
 * the first output line of each of `tools` (shell commands; `?` when one
 * fails).
 *
 * @example
 * ```ts
 * console.log(await machine(["nix-store --version", "xz --version"]));
 * ```
 */
export async function machine(tools: readonly string[]): Promise<string> {
  const cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?";
  const os = await sh(". /etc/os-release; echo $PRETTY_NAME").catch(() => "Linux");
  const versions = await Promise.all(
    tools.map((cmd) => sh(`${cmd} 2>/dev/null | head -n1`).catch(() => "?")),
  );
  return [
    `${navigator.hardwareConcurrency} × ${cpu}`,
    `${Math.round(Deno.systemMemoryInfo().total / 2 ** 30)} GiB RAM`,
    `${os} (Linux ${Deno.osRelease()})`,
    `Deno ${Deno.version.deno}`,
    ...versions,
  ].join(", ");
}

/** Wall and CPU seconds of one run. */
export interface Timing {
  /** Wall-clock seconds. */
  wall: number;
  /** User + system CPU seconds of the measured processes (when known). */
  cpu: number;
  /** Peak RSS in KiB (when known). */
  rssKiB: number;
}

/** Runs a bash script under `/usr/bin/time`: wall, CPU (user + sys of the whole pipeline), max RSS. */
export async function timedShell(
  script: string,
  env: Record<string, string> = {},
): Promise<Timing> {
  const start = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%U %S %M", "bash", "-c", `set -o pipefail; ${script}`],
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - start) / 1000;
  const lines = decoder.decode(out.stderr).trim().split("\n");
  if (!out.success) throw new Error(`failed: ${script}\n${lines.join("\n")}`);
  const [user, sys, rss] = lines[lines.length - 1]!.split(" ").map(Number);
  return { wall, cpu: user! + sys!, rssKiB: rss! };
}

/** Peak and current resident set and CPU time of a process (see {@linkcode procStats}). */
export interface ProcStats {
  /** Peak resident set (VmHWM), KiB. */
  hwmKiB: number;
  /** Current resident set (VmRSS), KiB. */
  rssKiB: number;
  /** CPU seconds of its own threads (utime + stime). */
  cpu: number;
  /** `cpu` plus that of the children it has waited for (a daemon's `lzip -dc` decoders). */
  cpuWithChildren: number;
}

/**
 * A process's memory and CPU figures, read from /proc.
 *
 * @example
 * ```ts
 * const { hwmKiB, cpu } = procStats(Deno.pid);
 * ```
 */
export function procStats(pid: number): ProcStats {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  const own = fields[11]! + fields[12]!;
  return {
    hwmKiB: kib("VmHWM"),
    rssKiB: kib("VmRSS"),
    cpu: own / 100,
    cpuWithChildren: (own + fields[13]! + fields[14]!) / 100,
  };
}

/**
 * CPU seconds of each thread group of `pid` (by thread name; the main thread
 * is `main`), e.g. `{ main: 3.1, "tokio-runtime-w": 1.2, "V8 DefaultWorke": 0.4 }`.
 *
 * @example
 * ```ts
 * const before = threadCpu(Deno.pid);
 * ```
 */
export function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
      const name = task.name === String(pid) ? "main" : stat.slice(
        stat.indexOf("(") + 1,
        stat.lastIndexOf(")"),
      );
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * `after - before` per thread group, formatted `"main 3.10 s, tokio-runtime-w 1.20 s"`, largest first.
 *
 * @example
 * ```ts
 * console.log(threadCpuDelta(before, threadCpu(Deno.pid)));
 * ```
 */
export function threadCpuDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): string {
  return Object.entries(after)
    .map(([name, cpu]) => [name, cpu - (before[name] ?? 0)] as const)
    .filter(([, cpu]) => cpu >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([name, cpu]) => `${name} ${cpu.toFixed(2)} s`)
    .join(", ");
}

/**
 * Every run of each named contender; the best is the lowest wall time.
 *
 * @example
 * ```ts
 * const runs = new Runs<{ wall: number }>();
 * runs.add("http", { wall: 3.2 });
 * runs.best("http").wall; // 3.2
 * ```
 */
export class Runs<T extends { wall: number }> {
  /** Every run, by contender, in run order. */
  readonly all = new Map<string, T[]>();

  /** Records a run of `name`. */
  add(name: string, run: T): void {
    this.all.set(name, [...(this.all.get(name) ?? []), run]);
  }

  /** The best (lowest wall time) run of `name`. @throws when `name` has no run. */
  best(name: string): T {
    const list = this.all.get(name);
    if (!list?.length) throw new Error(`no run recorded for contender "${name}"`);
    return list.reduce((a, b) => (b.wall < a.wall ? b : a));
  }

  /** Median wall time of `name` (NaN without runs). */
  median(name: string): number {
    return median((this.all.get(name) ?? []).map((r) => r.wall));
  }

  /** Every wall time of `name`, in run order, formatted (`"3.21 / 3.40 / 3.18"`). */
  walls(name: string): string {
    return (this.all.get(name) ?? []).map((r) => r.wall.toFixed(2)).join(" / ");
  }
}

/**
 * Median of numbers (NaN for none).
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Percentile (nearest rank) of numbers.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * Decimal MB/s.
 *
 * @example
 * ```ts
 * mbps(2e6, 1000); // 2
 * ```
 */
export function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

/** 2^20. */
export const MiB = 1 << 20;

/**
 * Formats bytes as MB (10^6) with one decimal.
 *
 * @example
 * ```ts
 * mb(1_500_000); // "1.5"
 * ```
 */
export function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * Formats KiB as MiB, rounded.
 *
 * @example
 * ```ts
 * mib(2048); // "2"
 * ```
 */
export function mib(kib: number): string {
  return String(Math.round(kib / 1024));
}

/** `ms` with one decimal below 10 ms, none above. */
export function fmtMs(seconds: number): string {
  const ms = seconds * 1000;
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** Seconds with three decimals. */
export function fmtS(seconds: number): string {
  return `${seconds.toFixed(3)} s`;
}

/** MiB from KiB. */
export function fmtMiB(kib: number): string {
  return `${Math.round(kib / 1024)} MiB`;
}

/**
 * Prints a markdown table.
 *
 * @example
 * ```ts
 * table(["contender", "s"], [["ours", "1.2"]]);
 * ```
 */
export function table(head: string[], rows: (string | number)[][]): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`;
  console.log(line(head));
  console.log(`| ${w.map((n) => "-".repeat(n)).join(" | ")} |`);
  for (const r of cells.slice(1)) console.log(line(r));
}

/**
 * Writes a progress line to stderr (the report goes to stdout).
 *
 * @example
 * ```ts
 * note("building the item");
 * ```
 */
export function note(text: string): void {
  console.error(text);
}

/**
 * A free TCP port on 127.0.0.1 (closed again; a race with other programs is unlikely).
 *
 * @example
 * ```ts
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
