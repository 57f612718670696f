/**
 * A TCP port for a test to give a daemon (`gateway_listen`, …): free now, and
 * below the kernel's ephemeral range, so no process binding port 0 meanwhile
 * — a daemon's libp2p or bulk-lane listener — can take it first.
 *
 * @example
 * ```ts
 * const port = freePort();
 * await startDaemon(dir, { gateway_listen: `127.0.0.1:${port}` });
 * ```
 * @module
 */

/** A port in 20000–32767 that 127.0.0.1 can bind right now. */
export function freePort(): number {
  for (let tries = 0; tries < 200; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error("no free port in 20000–32767");
}
