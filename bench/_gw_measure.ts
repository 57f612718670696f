/**
 * Measuring helpers of the gateway benchmark: a process's peak RSS (VmHWM)
 * and CPU time from /proc, per-thread CPU, best-of-N bookkeeping and number
 * formatting (`sh`, `loadavg` and `machine` come from `_measure.ts`).
 *
 * @example
 * ```ts
 * import { procStats, sh } from "./_gw_measure.ts";
 * console.log(await sh("nproc"), procStats(Deno.pid).hwmKiB);
 * ```
 * @module
 */
export { loadavg, sh } from "./_measure.ts";

/**
 * Peak resident set (VmHWM, KiB), current RSS (KiB) and CPU seconds (utime + stime) of `pid`.
 *
 * @example
 * ```ts
 * const { hwmKiB } = procStats(Deno.pid);
 * ```
 */
export function procStats(pid: number): { hwmKiB: number; rssKiB: number; cpu: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { hwmKiB: field("VmHWM"), rssKiB: field("VmRSS"), cpu: ticks / 100 };
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
 * Keeps every run of each named contender; the best is the lowest wall time.
 *
 * @example
 * ```ts
 * const runs = new Runs<{ wall: number }>();
 * runs.add("http", { wall: 3.2 });
 * runs.best("http").wall; // 3.2
 * ```
 */
export class Runs<T extends { wall: number }> {
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

  /** Every wall time of `name`, in run order, formatted (`"3.21 / 3.40 / 3.18"`). */
  walls(name: string): string {
    return (this.all.get(name) ?? []).map((r) => r.wall.toFixed(2)).join(" / ");
  }
}

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

/**
 * Writes a progress line to stderr.
 *
 * @example
 * ```ts
 * note("building the item");
 * ```
 */
export function note(message: string): void {
  console.error(`bench gateway: ${message}`);
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
