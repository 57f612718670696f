/**
 * Starts tests/support/evil_peer.ts as a separate process and waits (bounded)
 * until it has announced its item.
 * @module
 */
import { ROOT } from "./daemon_proc.ts";

/** A running evil peer. */
export interface EvilPeer extends AsyncDisposable {
  peerId: string;
  child: Deno.ChildProcess;
}

/**
 * Starts an evil peer in `mode` serving `tree`, bootstrapped on `bootstrap`;
 * it also connects directly to `neighbours` (as a LAN neighbour would).
 * The `narinfo-*` modes take the item's genuine narinfo file as `narinfo`.
 */
export async function startEvilPeer(
  mode: string,
  bootstrap: string,
  tree: string,
  timeoutMs = 60_000,
  neighbours: string[] = [],
  narinfo?: string,
): Promise<EvilPeer> {
  const deno = Deno.execPath();
  const child = new Deno.Command(deno, {
    args: [
      "run",
      "-A",
      "--quiet",
      "--cached-only",
      `${ROOT}/tests/support/evil_peer.ts`,
      mode,
      bootstrap,
      tree,
      neighbours.join(","),
      ...(narinfo ? [narinfo] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`evil peer exited before READY: ${text}`);
      text += value;
      const m = /READY (\S+)/.exec(text);
      if (m) return m[1]!;
    }
  })();
  try {
    const peerId = await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`evil peer not ready within ${timeoutMs} ms: ${text}`)),
          timeoutMs,
        );
      }),
    ]);
    const close = async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await child.status;
      await reader.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    };
    return { peerId, child, [Symbol.asyncDispose]: close };
  } finally {
    clearTimeout(timer);
  }
}
