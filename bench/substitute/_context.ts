/**
 * What every section of the substitute-path benchmark gets from
 * `bench/substitute/substitute.ts`: the scratch world, the HTTP server, and ways to start
 * daemons and helpers.
 *
 * @example
 * ```ts
 * import type { BenchContext } from "./_context.ts";
 * async function section(ctx: BenchContext) {
 *   await using daemon = await ctx.daemon();
 *   await using q = ctx.agent("--query", daemon.configPath);
 * }
 * ```
 * @module
 */
import type { DaemonProcess } from "../../tests/support/daemon_proc.ts";
import type { FixtureKey } from "../../tests/support/guix_cache.ts";
import type { SubstituterAgent } from "../../tests/support/guix_daemon.ts";

/** The benchmark's world. */
export interface BenchContext {
  /** Scratch directory (removed at the end). */
  work: string;
  /** Store directory the items belong to. */
  store: string;
  /** Directory served over HTTP. */
  cacheDir: string;
  /** URL of the server. */
  serverUrl: string;
  /** The signing key (its ACL is the daemon's and the helper's). */
  key: FixtureKey;
  /** Interleaved runs per contender (best of). */
  runs: number;
  /** Starts a fresh daemon (own directory, or `cacheDir` as its cache) serving `serverUrl`, http-only. */
  daemon(cacheDir?: string): Promise<DaemonProcess>;
  /** Starts a helper in `mode` the way guix-daemon does, for the daemon configured in `daemonConfig`. */
  agent(
    mode: "--query" | "--substitute",
    daemonConfig: string,
    program?: string[],
    env?: Record<string, string>,
  ): SubstituterAgent;
}

/** The launcher's `deno run` flags (read from bin/guix-p2p), for programs started like the helper. */
export const DENO_FLAGS: readonly string[] = launcherFlags();

function launcherFlags(): string[] {
  const text = Deno.readTextFileSync(new URL("../../bin/guix-p2p", import.meta.url));
  const m = /"\$deno" (run [^"]*)"\$root\/main\.ts"/.exec(text.replaceAll("\\\n", " "));
  if (!m) throw new Error('bin/guix-p2p: no `"$deno" run ... "$root/main.ts"` line found');
  return m[1]!.split(/\s+/).filter((w) => w !== "");
}
