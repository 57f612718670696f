/**
 * Baseline of the helper start-up benchmark: the smallest Deno program that
 * answers guix-daemon's `have` the way a substituter must (requests on stdin,
 * replies on fd 4 through `/dev/fd/4`). It claims every path it is asked about
 * and does nothing else: what is left of our helper's start-up cost once
 * configuration, ACL, modules and the daemon round trip are taken away.
 *
 * @example
 * ```sh
 * sh -c 'exec "$@" 4>&1 1>&2' sh deno run --allow-write=/dev/fd/4 bench/substitute/trivial_child.ts --query
 * ```
 * @module
 */
const fd4 = Deno.openSync("/dev/fd/4", { write: true });
const encoder = new TextEncoder();
let buffer = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf("\n")) >= 0) {
    const [command, ...paths] = buffer.slice(0, nl).split(" ").filter((w) => w !== "");
    buffer = buffer.slice(nl + 1);
    if (command === "have") {
      fd4.writeSync(encoder.encode(paths.map((p) => `${p}\n`).join("") + "\n"));
    }
  }
}
