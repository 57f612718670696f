/**
 * guix-p2p: one program, three roles.
 *
 * - invoked as `guix-p2p-substitute` (a symlink): the substitute helper that
 *   guix-daemon runs through the Guix extension;
 * - `guix-p2p --daemon`: the network daemon;
 * - `guix-p2p COMMAND`: the admin CLI.
 *
 * The role comes from the name the program was invoked as: the launcher
 * (bin/guix-p2p) passes it in GUIX_P2P_ARGV0; a compiled binary reads its own
 * argv[0] from /proc/self/cmdline.
 *
 * @example
 * ```sh
 * bin/guix-p2p --version
 * bin/guix-p2p-substitute --query
 * ```
 * @module
 */

function invokedName(): string {
  const fromLauncher = Deno.env.get("GUIX_P2P_ARGV0");
  if (fromLauncher) {
    Deno.env.delete("GUIX_P2P_ARGV0");
    return fromLauncher;
  }
  try {
    const cmdline = Deno.readTextFileSync("/proc/self/cmdline");
    const argv0 = cmdline.split("\0")[0] ?? "";
    return argv0.slice(argv0.lastIndexOf("/") + 1);
  } catch {
    return "guix-p2p";
  }
}

if (import.meta.main) {
  const name = invokedName();
  let status: number;
  if (name === "guix-p2p-substitute") {
    const { helperMain } = await import("./src/helper/main.ts");
    status = await helperMain(Deno.args);
  } else {
    const { cliMain } = await import("./src/cli/main.ts");
    status = await cliMain(Deno.args);
  }
  Deno.exit(status);
}
