/**
 * Decompression benchmark: our streaming decompressors (every engine that can
 * run here) against the Debian CLI tools (`zstd -dc`, `gzip -dc`, `xz -dc`,
 * `lzip -dc` = plzip, `lzip.lzip -dc`, `bzip2 -dc`) on the same ~200 MB of
 * realistic data (a tar of Python and Perl modules, /usr/bin and shared
 * libraries, like store items), side by side in one run,
 * best of N after one warm-up.
 *
 * Usage: `./dev bench decompress [--mb 200] [--runs 3] [--fresh]`
 *
 * The compressed files are cached in `bench/out/decompress/` (`--fresh`
 * rebuilds them). Our side runs in-process from a compressed buffer already
 * in memory, in 64 KiB chunks, to a sink that only counts; the CLI reads the
 * file (page cache) and writes to /dev/null, its start-up included. Every
 * output is checked once against the original's size and SHA-256.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  type Compression,
  decompressor,
  type DecompressorOptions,
  selectDecoder,
} from "../src/compress/mod.ts";
import { parseFlags } from "../src/std/cli.ts";

const { flags } = parseFlags(Deno.args, { string: ["mb", "runs"], boolean: ["fresh"] });
const megabytes = Number(flags.mb ?? "200");
const runs = Number(flags.runs ?? "3");
const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const dir = `${root}/bench/out/decompress`;
const original = `${dir}/data.tar`;
/** What a store is made of: scripts and modules, then executables and shared libraries. */
const SOURCES = ["usr/lib/python3", "usr/share/perl", "usr/bin", "usr/lib/x86_64-linux-gnu"];

interface Format {
  compression: Compression;
  file: string;
  /** Shell command that compresses `original` into `file`. */
  make: string;
  /** CLI baselines: argv that decompresses `file` to stdout. */
  clis: string[][];
}

const FORMATS: Format[] = [
  {
    compression: "zstd",
    file: "data.tar.zst",
    make: "zstd -19 -T2 -q -c",
    clis: [["zstd", "-dcq"]],
  },
  { compression: "gzip", file: "data.tar.gz", make: "gzip -6 -c", clis: [["gzip", "-dc"]] },
  { compression: "xz", file: "data.tar.xz", make: "xz -6 -T2 -c", clis: [["xz", "-dc"]] },
  {
    compression: "lzip",
    file: "data.tar.lz",
    make: "lzip -6 -c",
    clis: [["lzip", "-dc"], ["lzip.lzip", "-dc"]],
  },
  { compression: "bzip2", file: "data.tar.bz2", make: "bzip2 -9 -c", clis: [["bzip2", "-dc"]] },
];

async function sh(script: string): Promise<void> {
  const out = await new Deno.Command("bash", { args: ["-c", script], stderr: "piped" }).output();
  if (!out.success) throw new Error(`failed: ${script}\n${new TextDecoder().decode(out.stderr)}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function prepare(): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const bytes = megabytes * 1_000_000;
  const current = await Deno.stat(original).catch(() => undefined);
  const fresh = flags.fresh || current?.size !== bytes;
  if (fresh) {
    console.error(`building ${original} (${megabytes} MB of ${SOURCES.join(" ")})`);
    await sh(`tar -cf - -C / ${SOURCES.join(" ")} 2>/dev/null | head -c ${bytes} > ${original}`);
  }
  for (const f of FORMATS) {
    if (!fresh && await exists(`${dir}/${f.file}`)) continue;
    console.error(`compressing: ${f.make} > ${f.file}`);
    await sh(`${f.make} < ${original} > ${dir}/${f.file}`);
  }
}

/** Wall seconds of one CLI run writing to /dev/null. */
async function cliSeconds(argv: string[], file: string): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(argv[0]!, {
    args: [...argv.slice(1), file],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return (performance.now() - start) / 1000;
}

function chunks(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let p = 0;
  return new ReadableStream({
    pull(controller) {
      if (p >= data.length) controller.close();
      else {
        controller.enqueue(data.subarray(p, p + size));
        p += size;
      }
    },
  }, { highWaterMark: 0 });
}

/** Decompresses `data`; returns seconds, size and (if asked) the SHA-256. */
async function ours(
  data: Uint8Array,
  compression: Compression,
  options: DecompressorOptions,
  hash: boolean,
): Promise<{ seconds: number; size: number; sha?: string }> {
  const h = hash ? createHash("sha256") : undefined;
  let size = 0;
  const start = performance.now();
  await chunks(data, 65536).pipeThrough(decompressor(compression, options)).pipeTo(
    new WritableStream({
      write(chunk) {
        size += chunk.length;
        h?.update(chunk);
      },
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { seconds, size, ...(h ? { sha: h.digest("hex") } : {}) };
}

async function best(fn: () => Promise<number>): Promise<number> {
  await fn(); // warm-up
  let min = Infinity;
  for (let i = 0; i < runs; i++) min = Math.min(min, await fn());
  return min;
}

await prepare();
const originalBytes = await Deno.readFile(original);
const expectedSha = createHash("sha256").update(originalBytes).digest("hex");
const total = originalBytes.length;
const mbps = (seconds: number) => (total / 1e6 / seconds).toFixed(0);

const rows: string[][] = [];
for (const f of FORMATS) {
  const path = `${dir}/${f.file}`;
  const data = await Deno.readFile(path);
  const cli: { label: string; seconds: number }[] = [];
  for (const argv of f.clis) {
    cli.push({ label: `\`${argv.join(" ")}\``, seconds: await best(() => cliSeconds(argv, path)) });
  }
  const baseline = cli[0]!.seconds;
  const ratio = `${(data.length / total * 100).toFixed(1)} %`;
  for (const c of cli) {
    rows.push([
      f.compression,
      c.label + (c === cli[0] ? " (baseline)" : ""),
      ratio,
      c.seconds.toFixed(3),
      mbps(c.seconds),
      (baseline / c.seconds).toFixed(2),
    ]);
  }
  for (const engine of ["builtin", "external"] as const) {
    let choice;
    try {
      choice = selectDecoder(f.compression, { engine });
    } catch {
      continue;
    }
    const check = await ours(data, f.compression, { engine }, true);
    if (check.size !== total || check.sha !== expectedSha) {
      throw new Error(`${f.compression} ${engine}: wrong output (${check.size} bytes)`);
    }
    const seconds = await best(async () =>
      (await ours(data, f.compression, { engine }, false)).seconds
    );
    const label = choice.engine === "external"
      ? `ours, external \`${choice.command!.slice(0, 3).map((a) => a.split("/").pop()).join(" ")}\``
      : "ours, built in";
    rows.push([
      f.compression,
      label,
      ratio,
      seconds.toFixed(3),
      mbps(seconds),
      (baseline / seconds).toFixed(2),
    ]);
  }
}

const header = [
  "format",
  "decoder",
  "compressed size",
  "seconds (best)",
  "MB/s",
  "speed vs baseline",
];
console.log(
  `Input: ${total} bytes (tar of ${SOURCES.join(" ")}), best of ${runs} after a warm-up.`,
);
console.log(`| ${header.join(" | ")} |`);
console.log(`| ${header.map(() => "---").join(" | ")} |`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
