/**
 * CPU profiles of benchmark daemons (the gateway and closure benchmarks) with Deno's `--cpu-prof`
 * (undocumented in `deno run --help`, present in 2.9.6): a deno wrapper that
 * adds `--cpu-prof --cpu-prof-dir=DIR` to `--daemon` runs whose config path
 * contains one of the markers (the launcher `exec`s `$GUIX_P2P_DENO`), and a summary of
 * the `.cpuprofile` written when the daemon exits: self time per function and
 * per package, largest first.
 *
 * @example
 * ```ts
 * const deno = await profilingDeno(`${work}/prof`, ["/gw-1/"]);
 * Deno.env.set("GUIX_P2P_DENO", deno); // then start the daemon, work, stop it
 * console.log(await summarizeProfiles(`${work}/prof`));
 * ```
 * @module
 */
import { denoWrapper } from "./_deno_wrapper.ts";

/**
 * Writes the wrapper into `dir`; returns its path.
 *
 * @example
 * ```ts
 * Deno.env.set("GUIX_P2P_DENO", await profilingDeno("/tmp/prof", ["/gw-p2p-1/"]));
 * ```
 */
export function profilingDeno(dir: string, markers: string[]): Promise<string> {
  return denoWrapper(
    `${dir}/deno-cpu-prof.sh`,
    markers.map((m) => `*--daemon*${m}*`),
    `--cpu-prof --cpu-prof-dir=${dir}`,
  );
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives: an npm package, a repository folder, or a Deno/V8 internal. */
function area(url: string): string {
  const npm = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (npm) return npm[1]!;
  const src = /\/(src\/[^/]+)\//.exec(url);
  if (src) return src[1]!;
  if (url.startsWith("ext:") || url.startsWith("node:")) return url.split("/")[0]!;
  return url === "" ? "(native / V8)" : url.replace(/^.*\//, "");
}

/**
 * Self time (ms) per function and per area of one profile.
 *
 * @example
 * ```ts
 * const { areas } = selfTimes(JSON.parse(await Deno.readTextFile("x.cpuprofile")));
 * ```
 */
export function selfTimes(profile: Profile): {
  total: number;
  functions: [string, number][];
  areas: [string, number][];
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const ar = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    total += ms;
    const key = `${functionName || "(anonymous)"} ${url.replace(/^.*\//, "")}:${lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    const a = area(url);
    ar.set(a, (ar.get(a) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, functions: sorted(fn), areas: sorted(ar) };
}

/**
 * Markdown lines summarising every `.cpuprofile` in `dir` (top `n` functions and areas).
 *
 * @example
 * ```ts
 * for (const line of await summarizeProfiles("/tmp/prof")) console.error(line);
 * ```
 */
export async function summarizeProfiles(dir: string, n = 20): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".cpuprofile")) continue;
    const p = selfTimes(JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`)) as Profile);
    const line = ([k, ms]: [string, number]) =>
      `  ${ms.toFixed(0).padStart(6)} ms ${(100 * ms / p.total).toFixed(1).padStart(5)} %  ${k}`;
    out.push(
      `${e.name}: ${p.total.toFixed(0)} ms of samples (idle excluded)`,
      "by area:",
      ...p.areas.slice(0, n).map(line),
      "by function (self time):",
      ...p.functions.slice(0, n).map(line),
    );
  }
  return out;
}
