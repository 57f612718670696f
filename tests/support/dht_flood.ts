/**
 * Runs tests/support/dht_flood_peer.ts (a DHT attacker or prober) as its own
 * process and returns the JSON line it prints (bounded wait).
 * @module
 */
import { ROOT } from "./daemon_proc.ts";

/** What `flood` reports. */
export interface FloodReport {
  peerId: string;
  sent: number;
  streamErrors: number;
  dials: number;
  refusedDials: number;
  connected: boolean;
  ms: number;
}

/** What `probe` reports. */
export interface ProbeReport {
  providers: string[];
  /** The first lookup's time (it waits for kad-dht's initial self-query). */
  ms: number;
  /** Every lookup's time, with `runs` lookups. */
  times: number[];
}

/** Floods `target` with ADD_PROVIDER for `count` random keys. */
export function floodProviders(target: string, count: number): Promise<FloodReport> {
  return run(["flood", target, String(count)], 180_000);
}

/** Looks up the providers of `cid` through `target` (`runs` times in one process). */
export function probeProviders(target: string, cid: string, runs = 1): Promise<ProbeReport> {
  return run(["probe", target, cid], 120_000, { PROBE_RUNS: String(runs) });
}

async function run<T>(
  args: string[],
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--cached-only",
      `${ROOT}/tests/support/dht_flood_peer.ts`,
      ...args,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success || !text.startsWith("{")) {
    throw new Error(
      `dht_flood_peer ${args[0]} failed (${out.code}): ${text}\n${
        new TextDecoder().decode(out.stderr).slice(-2000)
      }`,
    );
  }
  return JSON.parse(text) as T;
}
