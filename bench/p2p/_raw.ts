/**
 * Runs the raw libp2p baseline (`bench/p2p/raw_peer_child.ts`): a server process
 * that streams N bytes to each client, and client processes that time one
 * stream each.
 *
 * @example
 * ```ts
 * await using raw = await startRawServer(2 ** 30);
 * const { bytes, ms } = await rawClient(raw.address);
 * ```
 * @module
 */
const PEER = new URL("./raw_peer_child.ts", import.meta.url).pathname;

/** A running raw server. */
export interface RawServer extends AsyncDisposable {
  address: string;
  pid: number;
}

/** Starts the server process; resolves with its address. */
export async function startRawServer(bytes: number): Promise<RawServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--cached-only", PEER, "server", "--bytes", String(bytes)],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  while (!/listening (\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`raw server exited before listening: ${text}`);
    text += value;
  }
  clearTimeout(timer);
  reader.releaseLock();
  void child.stdout.cancel().catch(() => {});
  return {
    address: /listening (\S+)/.exec(text)![1]!,
    pid: child.pid,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
      await child.status;
    },
  };
}

/** One client run: bytes read, ms from stream open to the last byte, client CPU seconds. */
export async function rawClient(
  address: string,
): Promise<{ bytes: number; ms: number; cpu: number }> {
  const child = new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "TIME %U %S",
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      "--cached-only",
      PEER,
      "client",
      address,
    ],
    stdout: "piped",
    stderr: "piped",
  });
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`raw client failed: ${stderr}`);
  const r = JSON.parse(stdout.trim().split("\n").pop()!) as { bytes: number; ms: number };
  const t = /TIME ([\d.]+) ([\d.]+)/.exec(stderr);
  return { ...r, cpu: t ? Number(t[1]) + Number(t[2]) : 0 };
}
