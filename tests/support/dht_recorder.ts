/**
 * Runs tests/support/dht_recorder_peer.ts (a DHT server that records the
 * provider records it is sent) as its own process, and lets a test wait on
 * what it recorded.
 *
 * @example
 * ```ts
 * await using rec = await startRecorder();
 * const i = await rec.waitFor((r) => r.key === key && r.peer === seeder.peerId);
 * ```
 * @module
 */
import { ROOT } from "./daemon_proc.ts";

/** One provider record the recorder's store was asked to keep. */
export interface RecordedProvider {
  /** The key as the store names it (base32 of the CID's multihash, no prefix). */
  key: string;
  /** The provider's PeerId. */
  peer: string;
  ok: boolean;
}

/** The running recorder. */
export interface ProviderRecorder extends AsyncDisposable {
  peerId: string;
  /** Its `/ip4/127.0.0.1/tcp/…/p2p/…` address. */
  address: string;
  /** Every record so far, in arrival order. */
  records: RecordedProvider[];
  /** Resolves with the index of the first record at or after `from` matching `pred` (bounded). */
  waitFor(
    pred: (r: RecordedProvider) => boolean,
    options?: { from?: number; timeoutMs?: number },
  ): Promise<number>;
}

/** Starts the recorder; resolves once it listens. */
export async function startRecorder(): Promise<ProviderRecorder> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--cached-only", `${ROOT}/tests/support/dht_recorder_peer.ts`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const records: RecordedProvider[] = [];
  const waiters = new Set<() => void>();
  let hello: (v: { peerId: string; address: string }) => void;
  const ready = new Promise<{ peerId: string; address: string }>((r) => (hello = r));
  const stderr: string[] = [];
  const lines = async (stream: ReadableStream<Uint8Array>, each: (line: string) => void) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        each(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  };
  const pumps = Promise.all([
    lines(child.stdout, (line) => {
      const o = JSON.parse(line);
      if (o.address) hello(o);
      else {
        records.push(o);
        for (const w of [...waiters]) w();
      }
    }),
    lines(child.stderr, (line) => stderr.push(line)),
  ]);
  const exited = child.status;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = await Promise.race([
    ready,
    exited.then((s) => {
      throw new Error(`dht_recorder_peer exited (${s.code}): ${stderr.join("\n")}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("dht_recorder_peer: not listening after 30 s")),
        30_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    peerId: started.peerId,
    address: started.address.includes("/p2p/")
      ? started.address
      : `${started.address}/p2p/${started.peerId}`,
    records,
    waitFor(pred, options = {}) {
      const from = options.from ?? 0;
      const timeoutMs = options.timeoutMs ?? 60_000;
      const find = () => records.findIndex((r, i) => i >= from && pred(r));
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = find();
          if (i < 0) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(i);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`recorder: no matching record within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async [Symbol.asyncDispose]() {
      await child.stdin.close().catch(() => {});
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
      await pumps;
    },
  };
}
