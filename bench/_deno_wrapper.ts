/**
 * A `deno` wrapper script for the benchmarks' profilers: used as
 * `GUIX_P2P_DENO` (the launcher `exec`s it, so the pid stays the daemon's), it
 * adds extra `deno run` flags to the runs whose arguments match one of some
 * shell `case` patterns and runs everything else unchanged.
 *
 * @example
 * ```ts
 * import { denoWrapper } from "./_deno_wrapper.ts";
 * const deno = await denoWrapper("/tmp/prof/deno.sh", ["*--daemon*"], "--cpu-prof");
 * Deno.env.set("GUIX_P2P_DENO", deno);
 * ```
 * @module
 */

/**
 * Writes the wrapper to `path` (creating its directory); returns `path`.
 * `flags` is shell text inserted after `deno run` (it may use `$$`, the pid).
 *
 * @example
 * ```ts
 * await denoWrapper("/tmp/w.sh", ["*--daemon*", "*--substitute*"], "--inspect=127.0.0.1:9229");
 * ```
 */
export async function denoWrapper(
  path: string,
  patterns: readonly string[],
  flags: string,
): Promise<string> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
real=${Deno.execPath()}
case "$*" in
  ${patterns.join("|")}) sub=$1; shift; exec "$real" "$sub" ${flags} "$@" ;;
  *) exec "$real" "$@" ;;
esac
`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}
