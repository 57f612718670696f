/**
 * CPU profiles of daemon processes for the P2P benchmarks, over the V8
 * inspector protocol (unlike `--cpu-prof`, which covers a whole process, it
 * profiles just the window between start and stop): `profiledDeno(dir)`
 * writes a deno wrapper that adds `--inspect=127.0.0.1:<20000 + pid % 20000>`
 * to `--daemon` and `--substitute` runs (use it as `GUIX_P2P_DENO`; the launcher `exec`s deno, so
 * the pid is the daemon's); `startProfile(pid)` finds the inspector and starts
 * the sampling profiler; `stop()` returns the self time per function, largest
 * first.
 *
 * @example
 * ```ts
 * Deno.env.set("GUIX_P2P_DENO", await profiledDeno("/tmp/prof"));
 * const profile = await startProfile(node.daemon.child.pid);
 * // ... work ...
 * console.log(summarize(await profile.stop()));
 * ```
 * @module
 */
import { denoWrapper } from "../_deno_wrapper.ts";

/** Writes the wrapper script into `dir`; returns its path. */
export function profiledDeno(dir: string): Promise<string> {
  return denoWrapper(
    `${dir}/deno-inspect.sh`,
    ["*--daemon*", "*--substitute*"],
    "--inspect=127.0.0.1:$((20000 + $$ % 20000))",
  );
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A running profile. */
export interface Profile {
  /** Stops profiling; self milliseconds per function (`name url:line`), largest first. */
  stop(): Promise<[string, number][]>;
}

/** Starts the sampling profiler of daemon process `pid` (started through {@linkcode profiledDeno}). */
export async function startProfile(
  pid: number,
  options: { intervalUs?: number; waitMs?: number } = {},
): Promise<Profile> {
  const port = 20000 + (pid % 20000);
  const deadline = Date.now() + (options.waitMs ?? 0);
  let list: { webSocketDebuggerUrl: string }[];
  for (;;) {
    try {
      list = await fetch(`http://127.0.0.1:${port}/json/list`).then((r) => r.json());
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        throw new Error(`no inspector on port ${port} (run the process with profiledDeno): ${e}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const url = list[0]!.webSocketDebuggerUrl;
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 1;
  const waiting = new Map<number, (r: unknown) => void>();
  ws.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data));
    if (m.id !== undefined) waiting.get(m.id)?.(m.result);
  };
  const call = (method: string, params: unknown = {}) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: options.intervalUs ?? 500 });
  await call("Profiler.start");
  return {
    async stop() {
      const { profile } = await call("Profiler.stop") as {
        profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
      };
      ws.close();
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const parent = new Map<number, number>();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      const name = (id: number | undefined) => {
        const f = id === undefined ? undefined : byId.get(id)?.callFrame;
        if (!f) return "";
        const file = f.url.replace(/^.*\/(node_modules|src)\//, "$1/");
        return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
      };
      const self = new Map<string, number>();
      profile.samples.forEach((id, i) => {
        // Self time, with the JavaScript caller chain (natives alone say little).
        let key = name(id);
        let up = parent.get(id);
        for (let depth = 0; depth < depth_(key) && up !== undefined; depth++) {
          key += ` < ${name(up)}`;
          up = parent.get(up);
        }
        self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
      });
      return [...self.entries()].sort((a, b) => b[1] - a[1]);
    },
  };
}

function depth_(key: string): number {
  return key.includes(" :0") || key.includes("ext:") ? 3 : 1;
}

/** Peak figures of `Deno.memoryUsage()` sampled in a process. */
export interface MemoryPeaks {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  samples: number;
}

/** A running memory sampler. */
export interface MemorySampler {
  /** Stops sampling; the peaks (bytes). */
  stop(): Promise<MemoryPeaks>;
}

/**
 * Samples `Deno.memoryUsage()` of process `pid` (started through
 * {@linkcode profiledDeno}) every `everyMs` over the inspector.
 */
export async function sampleMemory(pid: number, everyMs = 100): Promise<MemorySampler> {
  const port = 20000 + (pid % 20000);
  const list: { webSocketDebuggerUrl: string }[] = await fetch(
    `http://127.0.0.1:${port}/json/list`,
  ).then((r) => r.json());
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const peaks: MemoryPeaks = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, samples: 0 };
  let next = 1;
  ws.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data));
    const value = m.result?.result?.value;
    if (typeof value !== "string") return;
    const u = JSON.parse(value) as Record<string, number>;
    peaks.samples++;
    for (const k of ["rss", "heapTotal", "heapUsed", "external"] as const) {
      peaks[k] = Math.max(peaks[k], u[k] ?? 0);
    }
  };
  const timer = setInterval(() => {
    ws.send(JSON.stringify({
      id: next++,
      method: "Runtime.evaluate",
      params: { expression: "JSON.stringify(Deno.memoryUsage())", returnByValue: true },
    }));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, everyMs));
      ws.close();
      return peaks;
    },
  };
}

/** Formats the top `n` entries of a profile. */
export function summarize(entries: [string, number][], n = 25): string {
  const total = entries.reduce((s, [, ms]) => s + ms, 0);
  return entries.slice(0, n).map(([k, ms]) =>
    `${ms.toFixed(0).padStart(7)} ms ${(100 * ms / total).toFixed(1).padStart(5)} %  ${k}`
  ).join("\n");
}
