/**
 * The BitTorrent baseline of the P2P benchmarks: a `.torrent` made from a
 * directory (bencode, SHA-1 pieces), a minimal HTTP tracker on 127.0.0.1
 * (compact peer lists), and Debian's `aria2c` as seeder and leecher, the
 * leecher watched over aria2's JSON-RPC so its steady-state rate (between 20 %
 * and 80 % of the bytes) is measured apart from start-up.
 *
 * @example
 * ```ts
 * const torrent = await makeTorrent("/tmp/x/src", { announce: tracker.url });
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { concatBytes } from "../../src/encoding/bytes.ts";

const enc = new TextEncoder();

type Bencodable = number | string | Uint8Array | Bencodable[] | { [key: string]: Bencodable };

/** Bencodes a value (dictionary keys sorted, as BitTorrent requires). */
export function bencode(v: Bencodable): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  const put = (x: Bencodable): void => {
    if (typeof x === "number") parts.push(enc.encode(`i${x}e`));
    else if (typeof x === "string") put(enc.encode(x));
    else if (x instanceof Uint8Array) parts.push(enc.encode(`${x.length}:`), x);
    else if (Array.isArray(x)) {
      parts.push(enc.encode("l"));
      x.forEach(put);
      parts.push(enc.encode("e"));
    } else {
      parts.push(enc.encode("d"));
      for (const k of Object.keys(x).sort()) {
        put(k);
        put(x[k]!);
      }
      parts.push(enc.encode("e"));
    }
  };
  put(v);
  return concatBytes(parts);
}

/** Regular files under `dir`, sorted, as path components relative to it. */
async function listFiles(dir: string, prefix: string[] = []): Promise<string[][]> {
  const names = [];
  for await (const e of Deno.readDir(`${dir}/${prefix.join("/")}`)) names.push(e);
  names.sort((a, b) => (a.name < b.name ? -1 : 1));
  const out: string[][] = [];
  for (const e of names) {
    if (e.isDirectory) out.push(...await listFiles(dir, [...prefix, e.name]));
    else if (e.isFile) out.push([...prefix, e.name]);
  }
  return out;
}

/** Makes a multi-file torrent of `dir` (named after its last component). */
export async function makeTorrent(
  dir: string,
  options: { announce: string; pieceLength?: number },
): Promise<Uint8Array> {
  const pieceLength = options.pieceLength ?? 1 << 20;
  const files = await listFiles(dir);
  const pieces: Uint8Array[] = [];
  const piece = new Uint8Array(pieceLength);
  let fill = 0;
  const entries: Bencodable[] = [];
  for (const path of files) {
    const f = await Deno.open(`${dir}/${path.join("/")}`);
    let length = 0;
    try {
      for (;;) {
        const n = await f.read(piece.subarray(fill));
        if (n === null) break;
        fill += n;
        length += n;
        if (fill === pieceLength) {
          pieces.push(createHash("sha1").update(piece).digest());
          fill = 0;
        }
      }
    } finally {
      f.close();
    }
    entries.push({ length, path });
  }
  if (fill > 0) pieces.push(createHash("sha1").update(piece.subarray(0, fill)).digest());
  const all = new Uint8Array(pieces.length * 20);
  pieces.forEach((p, i) => all.set(p, i * 20));
  return bencode({
    announce: options.announce,
    info: {
      files: entries,
      name: dir.slice(dir.lastIndexOf("/") + 1),
      "piece length": pieceLength,
      pieces: all,
    },
  });
}

/** A running tracker. */
export interface Tracker extends AsyncDisposable {
  /** The announce URL. */
  url: string;
}

/** Starts a tracker that hands every announcing peer the others (all on 127.0.0.1). */
export function startTracker(): Promise<Tracker> {
  const peers = new Map<string, Set<number>>();
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => ready.resolve(port) },
    (req) => {
      const url = new URL(req.url);
      const raw = /[?&]info_hash=([^&]*)/.exec(url.search)?.[1] ?? "";
      const port = Number(url.searchParams.get("port"));
      const set = peers.get(raw) ?? new Set();
      peers.set(raw, set);
      if (url.searchParams.get("event") === "stopped") set.delete(port);
      else set.add(port);
      const others = [...set].filter((p) => p !== port);
      const compact = new Uint8Array(others.length * 6);
      others.forEach((p, i) => {
        compact.set([127, 0, 0, 1, p >> 8, p & 255], i * 6);
      });
      return new Response(bencode({ interval: 5, "min interval": 1, peers: compact }));
    },
  );
  return ready.promise.then((port) => ({
    url: `http://127.0.0.1:${port}/announce`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  }));
}

const COMMON = [
  "--enable-dht=false",
  "--enable-dht6=false",
  "--bt-enable-lpd=false",
  "--enable-peer-exchange=false",
  "--file-allocation=none",
  "--console-log-level=warn",
  "--summary-interval=0",
  "--bt-detach-seed-only=false",
  "--disable-ipv6=true",
  "--max-overall-upload-limit=0",
  "--max-overall-download-limit=0",
];

/** A running aria2c process. */
export interface Aria2 extends AsyncDisposable {
  pid: number;
  stop(): Promise<void>;
}

function spawnAria2(args: string[]): Aria2 {
  const child = new Deno.Command("aria2c", {
    args: [...COMMON, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  };
  return { pid: child.pid, stop, [Symbol.asyncDispose]: stop };
}

/** Seeds the files of `torrentFile` found under `parentDir` (no piece check at start). */
export function seedWithAria2(torrentFile: string, parentDir: string, port: number): Aria2 {
  return spawnAria2([
    `--dir=${parentDir}`,
    "--seed-ratio=0.0",
    "--bt-seed-unverified=true",
    `--listen-port=${port}`,
    torrentFile,
  ]);
}

/** One aria2c download. */
export interface Aria2Download {
  /** From spawning aria2c to every piece verified and written. */
  totalMs: number;
  /** Rate between 20 % and 80 % of the bytes (bytes per second). */
  steadyBytesPerSecond: number;
  bytes: number;
}

/** Downloads `torrentFile` into `dir` with a fresh aria2c, watched over JSON-RPC. */
export async function leechWithAria2(
  torrentFile: string,
  dir: string,
  ports: { listen: number; rpc: number },
  timeoutMs = 600_000,
): Promise<Aria2Download> {
  const t0 = performance.now();
  await using aria = spawnAria2([
    `--dir=${dir}`,
    "--seed-time=0",
    `--listen-port=${ports.listen}`,
    "--enable-rpc=true",
    `--rpc-listen-port=${ports.rpc}`,
    "--rpc-secret=bench",
    torrentFile,
  ]);
  void aria;
  const rpc = async (method: string, params: unknown[]) => {
    const r = await fetch(`http://127.0.0.1:${ports.rpc}/jsonrpc`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: ["token:bench", ...params] }),
    });
    const body = await r.json();
    if (body.error) throw new Error(`aria2 ${method}: ${JSON.stringify(body.error)}`);
    return body.result;
  };
  const samples: { t: number; done: number }[] = [];
  let total = 0;
  while (performance.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 50));
    let list: { status: string; completedLength: string; totalLength: string }[];
    try {
      list = [
        ...await rpc("aria2.tellActive", [["status", "completedLength", "totalLength"]]),
        ...await rpc("aria2.tellStopped", [0, 10, ["status", "completedLength", "totalLength"]]),
      ];
    } catch {
      continue; // RPC not up yet
    }
    const d = list[0];
    if (!d) continue;
    total = Number(d.totalLength);
    samples.push({ t: performance.now(), done: Number(d.completedLength) });
    if (d.status === "complete" || (total > 0 && Number(d.completedLength) === total)) {
      const totalMs = performance.now() - t0;
      const at = (f: number) => samples.find((s) => s.done >= f * total)!;
      const a = at(0.2), b = at(0.8);
      return {
        totalMs,
        steadyBytesPerSecond: (b.done - a.done) / ((b.t - a.t) / 1000),
        bytes: total,
      };
    }
    if (d.status === "error") throw new Error("aria2c download failed");
  }
  throw new Error(`aria2c did not finish within ${timeoutMs} ms`);
}
