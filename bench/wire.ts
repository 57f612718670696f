/**
 * Block-exchange codec benchmark: BLOCK frame encode/decode throughput, zstd
 * block compression/decompression per level on a real NAR (a prefix of
 * `nix-store --dump /usr/lib/x86_64-linux-gnu`) and on random data, the
 * compression ratio achieved per 256 KiB block (vs the whole NAR compressed
 * as one stream), and BlockHasher vs plain SHA-256. Baselines measured in the
 * same run: a copy of the NAR into another buffer (memory bandwidth), plain
 * SHA-256, and the native zstd 1.5 CLI's own benchmark (`zstd -b -B256KiB`,
 * independent 256 KiB blocks, timed inside zstd) on the same bytes.
 *
 * Usage: `./dev bench wire [--mb 128] [--path /usr/lib/x86_64-linux-gnu] [--levels 1,2,3,6]`
 *
 * @module
 */
import zlib from "node:zlib";
import { Sha256 } from "../src/hash/sha256.ts";
import { BlockHasher, DEFAULT_BLOCK_SIZE, verifyBlock } from "../src/p2p/wire/manifest.ts";
import {
  decodeBlock,
  encodeBlock,
  type EncodedBlock,
  encodeFrame,
  encodeFrameParts,
  FrameDecoder,
} from "../src/p2p/wire/mod.ts";
import { parseFlags } from "../src/std/cli.ts";

const { flags } = parseFlags(Deno.args, { string: ["mb", "path", "levels"] });
const MB = Number(flags.mb ?? "128");
const PATH = flags.path ?? "/usr/lib/x86_64-linux-gnu";
const LEVELS = (flags.levels ?? "1,2,3,6").split(",").map(Number);
const BS = DEFAULT_BLOCK_SIZE;

/** The first `bytes` of the NAR of `path`, read from `nix-store --dump`. */
async function narPrefix(path: string, bytes: number): Promise<Uint8Array> {
  const child = new Deno.Command("nix-store", {
    args: ["--dump", path],
    stdout: "piped",
    stderr: "null", // "broken pipe" once we stop reading
  }).spawn();
  const out = new Uint8Array(bytes);
  let at = 0;
  const reader = child.stdout.getReader();
  while (at < bytes) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = Math.min(value.length, bytes - at);
    out.set(value.subarray(0, take), at);
    at += take;
  }
  await reader.cancel();
  try {
    child.kill();
  } catch { /* already exited */ }
  await child.status;
  return out.subarray(0, at);
}

function blocksOf(data: Uint8Array): Uint8Array[] {
  const out = [];
  for (let at = 0; at < data.length; at += BS) out.push(data.subarray(at, at + BS));
  return out;
}

/** Best MB/s (decimal) of `fn` processing `bytes` bytes: one warm-up, then at least 5 runs and 1 s. */
function mbps(bytes: number, fn: () => void): number {
  fn();
  let best = Infinity;
  const start = performance.now();
  for (let i = 0; i < 5 || performance.now() - start < 1000; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return bytes / 1e3 / best;
}

const corpus = await narPrefix(PATH, MB * 1024 * 1024);
const random = new Uint8Array(Math.min(corpus.length, 64 * 1024 * 1024));
for (let at = 0; at < random.length; at += 65536) {
  crypto.getRandomValues(random.subarray(at, at + 65536));
}
const blocks = blocksOf(corpus);
const randomBlocks = blocksOf(random);
const rows: string[][] = [];
const row = (...cells: string[]) => rows.push(cells);
const f0 = (x: number) => Math.round(x).toLocaleString("en-US");
const ratio = (x: number, base: number) => (x / base).toFixed(2);

// --- Baselines.
const dest = new Uint8Array(corpus.length);
const memcpy = mbps(corpus.length, () => {
  blocks.forEach((b, i) => dest.set(b, i * BS));
});
const sha = mbps(corpus.length, () => {
  const h = new Sha256();
  for (const b of blocks) h.update(b);
  h.digest();
});
row("copy of the NAR block by block into another buffer (baseline)", f0(memcpy), "1.00", "");
row("SHA-256 of the NAR, node:crypto (baseline)", f0(sha), ratio(sha, memcpy), "1.00");

// --- BlockHasher.
let manifest = new BlockHasher(BS).update(corpus).finish();
const hasher = mbps(corpus.length, () => {
  const h = new BlockHasher(BS);
  for (let at = 0; at < corpus.length; at += 65536) h.update(corpus.subarray(at, at + 65536));
  manifest = h.finish();
});
row(
  "BlockHasher (whole-NAR + per-block SHA-256), 64 KiB chunks",
  f0(hasher),
  ratio(hasher, memcpy),
  ratio(hasher, sha),
);
const verify = mbps(corpus.length, () => {
  blocks.forEach((b, i) => {
    if (!verifyBlock(manifest, i, b)) throw new Error(`block ${i} does not verify`);
  });
});
row("verifyBlock of every block", f0(verify), ratio(verify, memcpy), ratio(verify, sha));

// --- BLOCK frames (raw encoding: measures the framing alone).
const rawMessages = blocks.map((data, index) => ({
  kind: "block" as const,
  id: 1,
  index,
  encoding: "raw" as const,
  rawLength: data.length,
  data,
}));
const headerRuns = 20;
const parts = mbps(corpus.length * headerRuns, () => {
  for (let r = 0; r < headerRuns; r++) for (const m of rawMessages) encodeFrameParts(m);
});
const perFrameUs = BS / 1e6 / parts * 1e6;
row(
  `encode BLOCK frame as [header, data] (no copy): ${(perFrameUs * 1000).toFixed(0)} ns/frame`,
  "—",
  "—",
  "",
);
const frames = rawMessages.map((m) => encodeFrame(m));
const copy = mbps(corpus.length, () => {
  for (const m of rawMessages) encodeFrame(m);
});
row("encode BLOCK frame into one buffer (copy)", f0(copy), ratio(copy, memcpy), "");
const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
frames.reduce((at, f) => (stream.set(f, at), at + f.length), 0);
for (const chunk of [65536, 16384]) {
  const decode = mbps(corpus.length, () => {
    const d = new FrameDecoder();
    for (let at = 0; at < stream.length; at += chunk) {
      d.push(stream.subarray(at, at + chunk));
      while (d.next() !== undefined) { /* drain */ }
    }
    d.end();
  });
  row(`decode BLOCK frames from ${chunk / 1024} KiB chunks`, f0(decode), ratio(decode, memcpy), "");
}

// --- zstd per level, 256 KiB blocks.
const zrows: string[][] = [];
const whole: Record<number, number> = {};
for (const level of LEVELS) {
  let encoded: EncodedBlock[] = [];
  const comp = mbps(corpus.length, () => {
    encoded = blocks.map((b) => encodeBlock(b, { level }));
  });
  const sent = encoded.reduce((n, e) => n + e.data.length, 0);
  const zstdShare = encoded.filter((e) => e.encoding === "zstd").length / encoded.length;
  const decomp = mbps(corpus.length, () => {
    encoded.forEach((e, i) => decodeBlock(e.encoding, e.data, blocks[i]!.length));
  });
  let randomEncoded: EncodedBlock[] = [];
  const compRandom = mbps(random.length, () => {
    randomEncoded = randomBlocks.map((b) => encodeBlock(b, { level }));
  });
  if (randomEncoded.some((e) => e.encoding !== "raw")) throw new Error("random data compressed?");
  const t0 = performance.now();
  const wholeSize = zlib.zstdCompressSync(corpus, {
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
  }).length;
  const wholeMbps = corpus.length / 1e3 / (performance.now() - t0);
  whole[level] = corpus.length / wholeSize;
  zrows.push([
    String(level),
    `${(corpus.length / sent).toFixed(2)} (${Math.round(zstdShare * 100)} % zstd)`,
    `${whole[level]!.toFixed(2)} (${f0(wholeMbps)} MB/s)`,
    `${f0(comp)} (${ratio(comp, sha)})`,
    `${f0(decomp)} (${ratio(decomp, sha)})`,
    `${f0(compRandom)} (${ratio(compRandom, sha)})`,
  ]);
}

// --- Native zstd CLI on the same bytes, independent 256 KiB blocks (its own timing).
const cli: Record<number, { ratio: number; comp: number; decomp: number }> = {};
const tmp = await Deno.makeTempFile({ prefix: "wire-bench-", suffix: ".nar" });
try {
  await Deno.writeFile(tmp, corpus);
  for (const level of LEVELS) {
    const out = await new Deno.Command("zstd", {
      args: ["-q", `-b${level}`, `-e${level}`, `-B${BS}`, "-i3", tmp],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const m = text.match(/-(\d+)\s+\d+ \(([\d.]+)\)\s+([\d.]+) MB\/s\s+([\d.]+) MB\/s/);
    if (m) cli[level] = { ratio: Number(m[2]), comp: Number(m[3]), decomp: Number(m[4]) };
  }
} finally {
  await Deno.remove(tmp);
}
for (const r of zrows) {
  const c = cli[Number(r[0])];
  r.push(c ? `${c.ratio.toFixed(2)}, ${f0(c.comp)} / ${f0(c.decomp)}` : "n/a");
}

// --- Output.
const table = (head: string[], body: string[][]) => {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
};
console.log(
  `corpus: first ${(corpus.length / 2 ** 20).toFixed(0)} MiB of nix-store --dump ${PATH} ` +
    `(${blocks.length} blocks of ${BS / 1024} KiB); random: ${random.length / 2 ** 20} MiB\n`,
);
console.log(table(["operation", "MB/s", "vs copy", "vs SHA-256"], rows));
console.log();
console.log(
  table([
    "level",
    "ratio per 256 KiB block",
    "ratio whole NAR, one stream",
    "compress MB/s (vs SHA-256)",
    "decompress MB/s (vs SHA-256)",
    "compress random MB/s (vs SHA-256; all sent raw)",
    "zstd CLI: ratio, compress / decompress MB/s",
  ], zrows),
);
