/**
 * Measuring helpers of the substitute-path benchmark: shell commands, wall
 * and CPU time of a pipeline, peak RSS (VmHWM) of a live process, load
 * average, machine description, best-of-N bookkeeping and formatting.
 *
 * @example
 * ```ts
 * import { timedShell, vmHwmKiB } from "./_sub_measure.ts";
 * const t = await timedShell("curl -s http://127.0.0.1:8080/x | zstd -dc > /dev/null");
 * console.log(t.wall, vmHwmKiB(Deno.pid));
 * ```
 * @module
 */

const decoder = new TextDecoder();

/** Runs a bash script; throws with its stderr when it fails. Resolves to stdout. */
export async function sh(script: string, env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`failed (${out.code}): ${script.slice(0, 300)}\n${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout).trim();
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

/** The three load averages. */
export function loadavg(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/** One line describing the machine and tools. */
export async function machine(): Promise<string> {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1];
  const version = async (
    cmd: string,
  ) => (await sh(`${cmd} 2>/dev/null | head -n1`).catch(() => "?"));
  const os = await sh(". /etc/os-release; echo $PRETTY_NAME").catch(() => "Linux");
  return [
    `${navigator.hardwareConcurrency} × ${cpu}`,
    `${Math.round(Deno.systemMemoryInfo().total / 2 ** 30)} GiB RAM`,
    `${os} (Linux ${Deno.osRelease()})`,
    `Deno ${Deno.version.deno}`,
    await version("curl --version | cut -d' ' -f1,2"),
    `zstd ${await version("zstd --version | grep -o 'v[0-9.]*'")}`,
    await version("lzip --version"),
    await version("nix-store --version"),
  ].join(", ");
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
