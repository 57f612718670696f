/**
 * Measuring helpers of the substitute-path benchmark: wall and CPU time of a
 * pipeline, peak RSS (VmHWM) and CPU of a live process with its children,
 * best-of-N bookkeeping and formatting (`sh`, `loadavg` and `machine` come
 * from `_measure.ts`).
 *
 * @example
 * ```ts
 * import { procStats, timedShell } from "./_sub_measure.ts";
 * const t = await timedShell("curl -s http://127.0.0.1:8080/x | zstd -dc > /dev/null");
 * console.log(t.wall, procStats(Deno.pid).hwmKiB);
 * ```
 * @module
 */
import { sh } from "./_measure.ts";

export { loadavg, sh } from "./_measure.ts";

const decoder = new TextDecoder();

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

/**
 * A process's peak resident set (VmHWM, KiB) and CPU seconds, read from
 * /proc: its own threads' utime + stime plus those of the children it has
 * waited for (the daemon's `lzip -dc` decoders).
 */
export function procStats(pid: number): { hwmKiB: number; cpu: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return { hwmKiB: hwm, cpu: ticks / 100 };
}

/** Keeps the best (lowest wall) run of each named contender, and every run for the log. */
export class Best<T extends { wall: number }> {
  readonly best = new Map<string, T>();
  readonly all = new Map<string, T[]>();

  /** Records a run. */
  add(name: string, t: T): void {
    const list = this.all.get(name) ?? [];
    list.push(t);
    this.all.set(name, list);
    const b = this.best.get(name);
    if (!b || t.wall < b.wall) this.best.set(name, t);
  }

  /** The best run of `name`. @throws when there is none. */
  get(name: string): T {
    const b = this.best.get(name);
    if (!b) throw new Error(`no run recorded for "${name}"`);
    return b;
  }

  /** Median wall time of `name`. */
  median(name: string): number {
    const walls = (this.all.get(name) ?? []).map((t) => t.wall).sort((a, b) => a - b);
    return walls[Math.floor(walls.length / 2)] ?? NaN;
  }
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

/** Removes a tree that may contain read-only directories (restored store items). */
export async function removeTree(path: string): Promise<void> {
  await sh(`chmod -R u+w '${path}' 2>/dev/null; rm -rf '${path}'`).catch(() => {});
}

/** Progress on stderr (the report goes to stdout). */
export function note(text: string): void {
  console.error(text);
}
