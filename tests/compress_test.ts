/**
 * End-to-end tests of src/compress against the real Debian tools: every
 * format compressed by its own CLI (zstd, gzip, xz, plzip, lzip.lzip, bzip2),
 * decompressed through our streams in many chunkings and by every engine
 * available, compared by SHA-256; then hostile input (truncation, flipped
 * bytes, garbage, empty input, zip bombs, bad lzip headers, trailing data),
 * cancellation and abort (child processes killed), and >100 MB streams with
 * flat memory.
 */
import { concatBytes } from "../src/encoding/bytes.ts";
import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { createHash } from "node:crypto";
import {
  type ChildProcess,
  type Compression,
  DecompressionError,
  decompressor,
  type DecompressorOptions,
  limitOutput,
  OutputLimitError,
  type ProcessRunner,
  selectDecoder,
  supportedCompressions,
} from "../src/compress/mod.ts";
import { denoProcessRunner } from "../src/compress/deno_process.ts";

const MiB = 1 << 20;
/** bzip2 is the one tool `./dev` may not install; its tests are skipped (and shown ignored) without it. */
const HAVE_BZIP2 = denoProcessRunner.which("bzip2") !== undefined;

// ---------------------------------------------------------------------------
// Helpers

/** Runs `cmd args` with `input` on stdin; returns stdout; throws on a non-zero exit. */
async function run(cmd: string, args: string[], input: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  const written = writer.write(input).then(() => writer.close());
  const [out] = await Promise.all([child.output(), written]);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/** Deterministic, compressible, text-like bytes (xorshift32 picks words). */
function text(size: number, seed: number): Uint8Array {
  const words = [
    "store",
    "/gnu/store/",
    "nix",
    "guix",
    "lib",
    "bin",
    "share",
    "hello",
    "world",
    ".so.6",
    "0",
    "42",
    "-",
    "\n",
    "libc",
    "python3",
  ].map((w) => new TextEncoder().encode(w + " "));
  const out = new Uint8Array(size);
  let x = seed | 1;
  let p = 0;
  while (p < size) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const w = words[(x >>> 0) % words.length]!;
    const n = Math.min(w.length, size - p);
    out.set(w.subarray(0, n), p);
    p += n;
  }
  return out;
}

function random(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let p = 0; p < size; p += 65536) crypto.getRandomValues(out.subarray(p, p + 65536));
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A pull-based stream of `data` in `size`-byte chunks (0 = one chunk). */
function chunks(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let p = 0;
  const step = size === 0 ? Math.max(1, data.length) : size;
  return new ReadableStream({
    pull(controller) {
      if (p >= data.length) {
        controller.close();
        return;
      }
      controller.enqueue(data.subarray(p, p + step));
      p += step;
    },
  }, { highWaterMark: 0 });
}

/** Decompresses everything; returns the SHA-256 and size of the output. */
async function digest(
  input: ReadableStream<Uint8Array>,
  compression: Compression,
  options: DecompressorOptions = {},
): Promise<{ sha: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of input.pipeThrough(decompressor(compression, options))) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha: hash.digest("hex"), size };
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Engines to exercise for a format: each one that can run here. */
function enginesFor(compression: Compression): ("builtin" | "external")[] {
  return (["builtin", "external"] as const).filter((engine) => {
    try {
      return selectDecoder(compression, { engine }).engine === engine;
    } catch {
      return false;
    }
  });
}

/**
 * Compresses like `guix publish` does: lzlib (`liblz.so.1`, which plzip uses too) driven
 * through its LZ_compress_* API, with the dictionary size and match length limit of
 * guix/lzlib.scm's `%compression-levels`. Python ctypes plays Guile's FFI.
 */
const LZLIB_COMPRESS = `
import ctypes, sys
lz = ctypes.CDLL("liblz.so.1")
lz.LZ_compress_open.restype = ctypes.c_void_p
lz.LZ_compress_open.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_ulonglong]
for name in ["LZ_compress_finish", "LZ_compress_finished", "LZ_compress_write_size", "LZ_compress_close", "LZ_compress_errno"]:
    getattr(lz, name).argtypes = [ctypes.c_void_p]
lz.LZ_compress_write.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
lz.LZ_compress_read.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
dictionary, match_len = int(sys.argv[1]), int(sys.argv[2])
enc = lz.LZ_compress_open(dictionary, match_len, 0x7FFFFFFFFFFFFFFF)
if not enc or lz.LZ_compress_errno(enc) != 0:
    sys.exit("LZ_compress_open failed")
data = sys.stdin.buffer.read()
out = sys.stdout.buffer
buf = ctypes.create_string_buffer(65536)
pos = 0
finished = False
if not data:
    lz.LZ_compress_finish(enc); finished = True
while True:
    if not finished:
        room = lz.LZ_compress_write_size(enc)
        if room > 0:
            n = lz.LZ_compress_write(enc, data[pos:pos + min(room, 65536)], min(room, 65536, len(data) - pos))
            if n < 0: sys.exit("LZ_compress_write failed")
            pos += n
            if pos == len(data):
                lz.LZ_compress_finish(enc); finished = True
    r = lz.LZ_compress_read(enc, buf, 65536)
    if r < 0: sys.exit("LZ_compress_read failed")
    out.write(buf.raw[:r])
    if lz.LZ_compress_finished(enc) == 1: break
lz.LZ_compress_close(enc)
`;

function lzlib(dictionary: number, matchLength: number) {
  return (data: Uint8Array) =>
    run("python3", ["-c", LZLIB_COMPRESS, String(dictionary), String(matchLength)], data);
}

// ---------------------------------------------------------------------------
// Fixtures: compressed by the real tools, once per test run.

interface Case {
  name: string;
  compression: Compression;
  original: Uint8Array;
  compressed: Uint8Array;
  /** Also decode in 1- and 7-byte chunks (small inputs only). */
  tiny: boolean;
}

let casesPromise: Promise<Case[]> | undefined;
function cases(): Promise<Case[]> {
  return casesPromise ??= makeCases();
}

async function makeCases(): Promise<Case[]> {
  const small = text(48 * 1024, 7);
  const big = text(3 * MiB, 11);
  const rnd = random(256 * 1024);
  const a = text(600 * 1024, 23);
  const b = concat(random(100 * 1024), text(300 * 1024, 29));
  const jobs: (() => Promise<Case>)[] = [];
  const add = (
    name: string,
    compression: Compression,
    original: Uint8Array,
    compress: (data: Uint8Array) => Promise<Uint8Array>,
  ) =>
    jobs.push(async () => ({
      name,
      compression,
      original,
      compressed: await compress(original),
      tiny: original.length <= 64 * 1024,
    }));
  const tool = (cmd: string, ...args: string[]) => (data: Uint8Array) => run(cmd, args, data);
  const twoParts = (cmd: string, ...args: string[]) => async () =>
    concat(await run(cmd, args, a), await run(cmd, args, b));

  for (const [label, data] of [["small", small], ["text", big], ["random", rnd]] as const) {
    add(`zstd -19 ${label}`, "zstd", data, tool("zstd", "-19", "-q", "-c"));
    add(`gzip -6 ${label}`, "gzip", data, tool("gzip", "-6", "-c"));
    add(`xz -6 ${label}`, "xz", data, tool("xz", "-6", "-c"));
    add(`lzip (plzip) ${label}`, "lzip", data, tool("lzip", "-c"));
    add(`lzip.lzip ${label}`, "lzip", data, tool("lzip.lzip", "-c"));
    if (HAVE_BZIP2) add(`bzip2 ${label}`, "bzip2", data, tool("bzip2", "-9", "-c"));
    add(`none ${label}`, "none", data, (d) => Promise.resolve(d));
  }
  add("zstd -19 --long", "zstd", big, tool("zstd", "-19", "--long", "-q", "-c"));
  add("zstd --no-check", "zstd", big, tool("zstd", "-3", "--no-check", "-q", "-c"));
  add("zstd multi-frame", "zstd", concat(a, b), twoParts("zstd", "-19", "-q", "-c"));
  add("gzip members", "gzip", concat(a, b), twoParts("gzip", "-6", "-c"));
  add("xz streams", "xz", concat(a, b), twoParts("xz", "-6", "-c"));
  add("xz crc32 check", "xz", big, tool("xz", "-3", "--check=crc32", "-c"));
  add("xz sha256 check", "xz", big, tool("xz", "-3", "--check=sha256", "-c"));
  add("xz no check", "xz", big, tool("xz", "-3", "--check=none", "-c"));
  add("xz blocks", "xz", big, tool("xz", "-6", "--block-size=512KiB", "-c"));
  add("xz -0 random", "xz", rnd, tool("xz", "-0", "-c"));
  add("lzip plzip -0 members", "lzip", big, tool("lzip", "-0", "-c"));
  add("lzip plzip -B 1MiB members", "lzip", big, tool("lzip", "-6", "-B", "1MiB", "-c"));
  add("lzip.lzip -0", "lzip", big, tool("lzip.lzip", "-0", "-c"));
  add("lzip.lzip -9", "lzip", big, tool("lzip.lzip", "-9", "-c"));
  // lzip shrinks the dictionary to the input size, so a real 32 MiB dictionary needs more
  // than 32 MiB of input: 1 MiB of random bytes, 30 MiB of zeros, the same random MiB
  // again (matched 31 MiB back) and some text. -1 keeps that fast.
  const far = random(MiB);
  add(
    "lzip.lzip 32 MiB dictionary",
    "lzip",
    concat(far, new Uint8Array(30 * MiB), far, text(256 * 1024, 31)),
    tool("lzip.lzip", "-1", "-s", "32MiB", "-c"),
  );
  add("lzip.lzip -b members", "lzip", big, tool("lzip.lzip", "-0", "-b", "200KiB", "-c"));
  add("lzip concatenated files", "lzip", concat(a, b), twoParts("lzip.lzip", "-c"));
  add("lzip lzlib (Guix level 6: 8 MiB, 36)", "lzip", big, lzlib(1 << 23, 36));
  add("lzip lzlib (Guix level 0: 65535, 16)", "lzip", big, lzlib(65535, 16));
  add("lzip lzlib (Guix level 9) small", "lzip", small, lzlib(1 << 25, 273));
  if (HAVE_BZIP2) add("bzip2 streams", "bzip2", concat(a, b), twoParts("bzip2", "-9", "-c"));

  // Two at a time: the machine has two cores.
  const all: Case[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      all[i] = await jobs[i]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return all;
}

// ---------------------------------------------------------------------------
// Round trips

if (!HAVE_BZIP2) {
  Deno.test({
    name: "bzip2: all tests skipped, no `bzip2` on PATH (Debian package bzip2)",
    ignore: true,
    fn() {},
  });
}

for (const compression of ["none", "gzip", "zstd", "xz", "lzip", "bzip2"] as const) {
  for (const engine of enginesFor(compression)) {
    Deno.test(`${compression} (${engine}): tool output round-trips in every chunking`, async () => {
      const all = (await cases()).filter((c) => c.compression === compression);
      assertGreater(all.length, 0);
      for (const c of all) {
        const expected = sha256Hex(c.original);
        const sizes = c.tiny ? [1, 7, 65536, 0] : [4093, 65536, 0];
        for (const size of sizes) {
          const where = `${c.name}, ${engine}, chunks of ${size || "everything"}`;
          const got = await digest(chunks(c.compressed, size), compression, { engine }).catch(
            (e) => {
              throw new Error(`${where}: ${e}`, { cause: e });
            },
          );
          assertEquals(
            got,
            { sha: expected, size: c.original.length },
            where,
          );
        }
      }
    });
  }
}

Deno.test("lzip fixtures really are multi-member where intended", async () => {
  // plzip -0 and `lzip.lzip -b` split a 3 MiB input into several members;
  // count "LZIP" magics at member starts by walking the trailers from the end.
  const members = (file: Uint8Array) => {
    let end = file.length;
    let n = 0;
    while (end > 0) {
      const view = new DataView(file.buffer, file.byteOffset + end - 8, 8);
      end -= Number(view.getBigUint64(0, true));
      n++;
    }
    assertEquals(end, 0);
    return n;
  };
  const all = await cases();
  const byName = (name: string) => all.find((c) => c.name === name)!.compressed;
  assertGreater(members(byName("lzip plzip -0 members")), 1);
  assertGreater(members(byName("lzip plzip -B 1MiB members")), 1);
  assertGreater(members(byName("lzip.lzip -b members")), 1);
  assertEquals(members(byName("lzip.lzip -0")), 1);
});

Deno.test("supportedCompressions lists what selectDecoder accepts", () => {
  assertEquals(
    supportedCompressions(),
    ["none", "gzip", "zstd", "xz", "lzip", ...(HAVE_BZIP2 ? ["bzip2" as const] : [])],
  );
  const builtin = supportedCompressions({ engine: "builtin" });
  assertEquals(builtin, ["none", "gzip", "zstd", "xz", "lzip"]);
  const noTools: ProcessRunner = { which: () => undefined, spawn: () => unexpected("spawn") };
  assertEquals(
    supportedCompressions({ processRunner: noTools }),
    builtin,
    "without external tools, auto falls back to the built-in decoders",
  );
  assertEquals(selectDecoder("lzip", { processRunner: noTools }), { engine: "builtin" });
  assertEquals(selectDecoder("xz", { processRunner: noTools }), { engine: "builtin" });
  assertEquals(selectDecoder("lzip").engine, "external");
  assertEquals(selectDecoder("zstd").engine, "builtin");
});

function unexpected(what: string): never {
  throw new Error(`unexpected call: ${what}`);
}

// ---------------------------------------------------------------------------
// Hostile input

const COMPRESSED_FORMATS = ["gzip", "zstd", "xz", "lzip", "bzip2"] as const;

async function expectFailure(
  data: Uint8Array,
  compression: Compression,
  engine: "builtin" | "external",
  what: string,
  message?: string,
): Promise<DecompressionError> {
  const context = `${compression} (${engine}), ${what}`;
  let error: unknown;
  try {
    await within(digest(chunks(data, 4096), compression, { engine }), 30_000, context);
  } catch (e) {
    error = e;
  }
  assertInstanceOf(
    error,
    DecompressionError,
    `${context}: expected a DecompressionError, got ${error}`,
  );
  assertEquals(error.format, compression, context);
  if (message !== undefined) assertStringIncludes(error.message, message, context);
  return error;
}

for (const compression of COMPRESSED_FORMATS) {
  for (const engine of enginesFor(compression)) {
    Deno.test(`${compression} (${engine}): truncated, empty and garbage input fail`, async () => {
      const c = (await cases()).find((c) =>
        c.compression === compression && c.name.endsWith(" text")
      )!;
      const data = c.compressed;
      for (const cut of [1, 2, 13, 21, data.length >> 1, data.length - 4, data.length - 1]) {
        await expectFailure(data.subarray(0, cut), compression, engine, `truncated to ${cut}`);
      }
      await expectFailure(new Uint8Array(0), compression, engine, "empty input");
      await expectFailure(random(10_000), compression, engine, "random garbage");
      await expectFailure(
        new TextEncoder().encode("<html>404 Not Found</html>\n"),
        compression,
        engine,
        "an HTML error page",
      );
    });
  }
}

for (const compression of ["gzip", "zstd", "xz", "lzip", "bzip2"] as const) {
  for (const engine of enginesFor(compression)) {
    Deno.test(`${compression} (${engine}): a flipped byte is detected`, async () => {
      const c = (await cases()).find((c) =>
        c.compression === compression && c.name.endsWith(" text")
      )!;
      for (const at of [c.compressed.length >> 1, c.compressed.length - 10]) {
        const bad = c.compressed.slice();
        bad[at]! ^= 0x20;
        await expectFailure(bad, compression, engine, `byte ${at} flipped`);
      }
    });
  }
}

Deno.test("none passes anything through, empty included", async () => {
  assertEquals(await digest(chunks(new Uint8Array(0), 0), "none"), {
    sha: sha256Hex(new Uint8Array(0)),
    size: 0,
  });
});

for (const engine of enginesFor("lzip")) {
  Deno.test(`lzip (${engine}): bad headers, trailers and trailing data`, async () => {
    const c = (await cases()).find((c) => c.name === "lzip.lzip text")!;
    const good = c.compressed;
    const patched = (at: number, value: number) => {
      const copy = good.slice();
      copy[at] = value;
      return copy;
    };
    const builtin = engine === "builtin";
    const e = (text: string) => builtin ? text : undefined;
    await expectFailure(
      patched(4, 0),
      "lzip",
      engine,
      "version 0",
      e("unsupported lzip version 0"),
    );
    await expectFailure(
      patched(4, 2),
      "lzip",
      engine,
      "version 2",
      e("unsupported lzip version 2"),
    );
    await expectFailure(patched(0, 0x4d), "lzip", engine, "bad magic", e("not an lzip member"));
    // 0x1f codes 2 GiB, 0x0b 2 KiB: outside the format's 4 KiB..512 MiB.
    await expectFailure(
      patched(5, 0x1f),
      "lzip",
      engine,
      "2 GiB dictionary",
      e("invalid dictionary size 2147483648"),
    );
    await expectFailure(
      patched(5, 0x0b),
      "lzip",
      engine,
      "2 KiB dictionary",
      e("invalid dictionary size 2048"),
    );
    const trailer = good.length - 20;
    await expectFailure(
      patched(trailer, good[trailer]! ^ 1),
      "lzip",
      engine,
      "CRC",
      e("CRC32 mismatch"),
    );
    await expectFailure(
      patched(trailer + 4, good[trailer + 4]! ^ 1),
      "lzip",
      engine,
      "data size",
      e("data size mismatch"),
    );
    await expectFailure(
      patched(trailer + 12, good[trailer + 12]! ^ 1),
      "lzip",
      engine,
      "member size",
      e("member size mismatch"),
    );
    // Trailing data after the last member: rejected, like `lzip -dc --trailing-error`.
    const enc = new TextEncoder();
    await expectFailure(
      concat(good, enc.encode("garbage\n")),
      "lzip",
      engine,
      "trailing garbage",
      e("trailing data after the last member"),
    );
    await expectFailure(
      concat(good, enc.encode("LZI")),
      "lzip",
      engine,
      "trailing partial header",
      e("truncated in a member header"),
    );
    await expectFailure(
      concat(good, new Uint8Array(64)),
      "lzip",
      engine,
      "trailing zeros",
      e("trailing data"),
    );
    await expectFailure(
      concat(good, good.subarray(0, 30)),
      "lzip",
      engine,
      "truncated second member",
      e("truncated"),
    );
  });
}

Deno.test("lzip (builtin): the dictionary cap is configurable and checked before allocating", async () => {
  const c = (await cases()).find((c) => c.name === "lzip.lzip 32 MiB dictionary")!;
  assertEquals(c.compressed[5], 0x19, "the fixture declares a 32 MiB dictionary");
  const error = await assertRejects(
    () =>
      digest(chunks(c.compressed, 0), "lzip", { engine: "builtin", maxDictionarySize: 8 * MiB }),
    DecompressionError,
    "dictionary size 33554432 (coded 0x19) in member 1 header exceeds the configured limit of 8388608 bytes",
  );
  assertEquals((error as DecompressionError).offset, 5);
  // A 512 MiB header (coded 0x1d) is valid per spec but refused under a 32 MiB cap.
  const huge = c.compressed.slice();
  huge[5] = 0x1d;
  await assertRejects(
    () => digest(chunks(huge, 0), "lzip", { engine: "builtin", maxDictionarySize: 32 * MiB }),
    DecompressionError,
    "dictionary size 536870912",
  );
  // Under the default cap it is accepted, and the data (made for a 32 MiB dictionary)
  // decodes the same with a larger one.
  assertEquals(
    await digest(chunks(huge, 0), "lzip", { engine: "builtin" }),
    { sha: sha256Hex(c.original), size: c.original.length },
  );
});

for (const compression of ["lzip", "xz"] as const) {
  Deno.test(`${compression}: the builtin and external engines agree on every fixture`, async () => {
    assertEquals(enginesFor(compression), ["builtin", "external"]);
    for (const c of (await cases()).filter((c) => c.compression === compression)) {
      assertEquals(
        await digest(chunks(c.compressed, 65536), compression, { engine: "external" }),
        await digest(chunks(c.compressed, 65536), compression, { engine: "builtin" }),
        c.name,
      );
    }
  });
}

for (const engine of enginesFor("xz")) {
  Deno.test(`xz (${engine}): checks, index, filters, padding and trailing data`, async () => {
    const all = await cases();
    const good = all.find((c) => c.name === "xz -6 text")!.compressed;
    const builtin = engine === "builtin";
    const e = (text: string) => builtin ? text : undefined;
    const patched = (data: Uint8Array, at: number, xor: number) => {
      const copy = data.slice();
      copy[at]! ^= xor;
      return copy;
    };
    // Footer layout: CRC32 (4) | backward size (4) | flags (2) | "YZ"; the index precedes it.
    const n = good.length;
    await expectFailure(
      patched(good, 7, 0x01),
      "xz",
      engine,
      "header flags",
      e("stream header CRC32 mismatch"),
    );
    await expectFailure(
      patched(good, n - 1, 0x01),
      "xz",
      engine,
      "footer magic",
      e("bad stream footer magic"),
    );
    await expectFailure(
      patched(good, n - 8, 0x01),
      "xz",
      engine,
      "backward size",
      e("stream footer CRC32 mismatch"),
    );
    await expectFailure(
      patched(good, n - 13, 0x01),
      "xz",
      engine,
      "index CRC",
      e("index CRC32 mismatch"),
    );
    await expectFailure(
      patched(good, 12 + 2, 0x01),
      "xz",
      engine,
      "block header",
      e("block header CRC32 mismatch"),
    );
    for (const name of ["xz crc32 check", "xz -6 text", "xz sha256 check"]) {
      const c = all.find((c) => c.name === name)!.compressed;
      // The block check sits right before the index (the last 12 + index bytes).
      const checkEnd = c.length - 12 - indexSize(c);
      await expectFailure(
        patched(c, checkEnd - 1, 0x01),
        "xz",
        engine,
        `${name} check`,
        e("mismatch in the block"),
      );
    }
    // Padding between and after streams: multiples of 4 zero bytes are part of the format.
    const original = all.find((c) => c.name === "xz -6 text")!.original;
    const twice = concat(good, new Uint8Array(8), good, new Uint8Array(4));
    assertEquals(await digest(chunks(twice, 4093), "xz", { engine }), {
      sha: sha256Hex(concat(original, original)),
      size: original.length * 2,
    });
    await expectFailure(
      concat(good, new Uint8Array(3)),
      "xz",
      engine,
      "3 padding bytes",
      e("not a multiple of 4"),
    );
    await expectFailure(
      concat(good, new TextEncoder().encode("junk")),
      "xz",
      engine,
      "trailing garbage",
      e("trailing data after the last stream"),
    );
    // A BCJ filter: only the external engine decodes it.
    const bcj = await run("xz", ["--x86", "--lzma2=preset=6", "-c"], original);
    if (builtin) {
      await expectFailure(
        bcj,
        "xz",
        engine,
        "x86 BCJ filter",
        "filter 0x4 (x86 BCJ) is not supported by the built-in decoder",
      );
    } else {
      assertEquals((await digest(chunks(bcj, 65536), "xz", { engine })).sha, sha256Hex(original));
    }
  });
}

/** Size of the index of a single-stream .xz file, from its footer's backward size. */
function indexSize(xz: Uint8Array): number {
  const view = new DataView(xz.buffer, xz.byteOffset + xz.length - 8, 4);
  return (view.getUint32(0, true) + 1) * 4;
}

Deno.test("xz (builtin): the dictionary cap is configurable", async () => {
  const c = (await cases()).find((c) => c.name === "xz -6 text")!;
  await assertRejects(
    () => digest(chunks(c.compressed, 0), "xz", { engine: "builtin", maxDictionarySize: MiB }),
    DecompressionError,
    "LZMA2 dictionary of 8388608 bytes exceeds the configured limit of 1048576 bytes",
  );
});

for (const compression of ["gzip", "zstd", "xz", "lzip"] as const) {
  Deno.test(`${compression} (builtin): 300 random corruptions fail cleanly or decode correctly`, async () => {
    const c = (await cases()).find((c) =>
      c.name.startsWith(`${compression === "lzip" ? "lzip.lzip" : compression}`) &&
      c.name.endsWith(" small")
    )!;
    const expected = sha256Hex(c.original);
    let seed = 0x9e3779b9;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    let failures = 0;
    for (let i = 0; i < 300; i++) {
      const bad = c.compressed.slice();
      const edits = 1 + Math.floor(next() * 4);
      for (let k = 0; k < edits; k++) {
        bad[Math.floor(next() * bad.length)] = Math.floor(next() * 256);
      }
      const cut = next() < 0.2 ? Math.floor(next() * bad.length) : bad.length;
      try {
        const got = await within(
          digest(chunks(bad.subarray(0, cut), 997), compression, {
            engine: "builtin",
            maxOutput: c.original.length,
          }),
          10_000,
          `corruption ${i}`,
        );
        // Undetected only when the edits changed nothing that matters.
        assertEquals(got, { sha: expected, size: c.original.length }, `corruption ${i}`);
      } catch (e) {
        if (!(e instanceof DecompressionError || e instanceof OutputLimitError)) {
          throw new Error(`corruption ${i}: unexpected ${e}`, { cause: e });
        }
        failures++;
      }
    }
    assertGreater(failures, 250);
  });
}

// ---------------------------------------------------------------------------
// Zip bombs: terabytes of zeros behind megabytes of input must stop at maxOutput.

const bombs = new Map<Compression, Promise<Uint8Array>>();
function bomb(compression: Compression): Promise<Uint8Array> {
  let p = bombs.get(compression);
  if (!p) {
    const zeros = new Uint8Array(64 * MiB);
    const tools: Partial<Record<Compression, [string, string[]]>> = {
      zstd: ["zstd", ["-19", "-q", "-c"]],
      gzip: ["gzip", ["-9", "-c"]],
      xz: ["xz", ["-0", "-c"]],
      lzip: ["lzip", ["-0", "-c"]],
      bzip2: ["bzip2", ["-9", "-c"]],
    };
    const [cmd, args] = tools[compression]!;
    p = run(cmd, args, zeros);
    bombs.set(compression, p);
  }
  return p;
}

/** `unit` repeated `times` times, generated on demand (never held in memory). */
function repeated(unit: Uint8Array, times: number, counter: { pulled: number }) {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i++ >= times) controller.close();
      else {
        counter.pulled += unit.length;
        controller.enqueue(unit);
      }
    },
  }, { highWaterMark: 0 });
}

for (const compression of COMPRESSED_FORMATS) {
  for (const engine of enginesFor(compression)) {
    Deno.test(`${compression} (${engine}): a 1 TiB zip bomb stops at maxOutput`, async () => {
      const unit = await bomb(compression);
      const times = 16384; // 16384 x 64 MiB of zeros = 1 TiB
      const counter = { pulled: 0 };
      const maxOutput = 10 * MiB;
      let received = 0;
      const out = repeated(unit, times, counter).pipeThrough(
        decompressor(compression, { engine, maxOutput }),
      );
      const error = await assertRejects(
        () =>
          within(
            out.pipeTo(new WritableStream({ write: (c) => void (received += c.length) })),
            60_000,
            "bomb",
          ),
        OutputLimitError,
        `limit of ${maxOutput} bytes`,
      );
      assertEquals((error as OutputLimitError).limit, maxOutput);
      assertLessOrEqual(received, maxOutput);
      // Stopped early: it read far less than the whole bomb (1 TiB would take hours).
      assertLessOrEqual(
        counter.pulled,
        Math.max(unit.length * 64, 4 * MiB),
        `compressed bytes pulled before stopping: ${counter.pulled} of ${unit.length * times}`,
      );
    });
  }
}

Deno.test("limitOutput: too many bytes, and exactly N bytes", async () => {
  const bytes = new Uint8Array(100);
  await assertRejects(
    () => chunks(bytes, 30).pipeThrough(limitOutput(99)).pipeTo(new WritableStream()),
    OutputLimitError,
    "exceeds the limit of 99 bytes",
  );
  await chunks(bytes, 30).pipeThrough(limitOutput(100, { exact: true })).pipeTo(
    new WritableStream(),
  );
  await assertRejects(
    () =>
      chunks(bytes, 30).pipeThrough(limitOutput(101, { exact: true })).pipeTo(new WritableStream()),
    OutputLimitError,
    "output ended after 100 bytes, expected exactly 101 bytes",
  );
});

// ---------------------------------------------------------------------------
// Cancellation and abort: work stops, child processes die.

/** Wraps the Deno runner, recording every child it starts. */
function recordingRunner(): { runner: ProcessRunner; children: ChildProcess[] } {
  const children: ChildProcess[] = [];
  return {
    children,
    runner: {
      which: denoProcessRunner.which,
      spawn(path, args) {
        const child = denoProcessRunner.spawn(path, args);
        children.push(child);
        return child;
      },
    },
  };
}

for (const compression of COMPRESSED_FORMATS) {
  for (const engine of enginesFor(compression)) {
    Deno.test({
      name: `${compression} (${engine}): cancelling the output stops work and kills the child`,
      sanitizeOps: true,
      sanitizeResources: true,
      async fn() {
        const unit = await bomb(compression);
        const { runner, children } = recordingRunner();
        const counter = { pulled: 0 };
        const out = repeated(unit, 1 << 20, counter).pipeThrough(
          decompressor(compression, { engine, processRunner: runner }),
        );
        const reader = out.getReader();
        let got = 0;
        while (got < 3 * MiB) {
          const { done, value } = await within(reader.read(), 30_000, "read");
          assert(!done);
          got += value.length;
        }
        await within(reader.cancel(new Error("enough")), 10_000, "cancel");
        assertEquals(children.length, engine === "external" ? 1 : 0);
        for (const child of children) {
          const status = await within(child.status, 10_000, "child exit after cancel");
          assertEquals(status.signal, "SIGKILL");
        }
        const pulled = counter.pulled;
        // The source is cancelled too: nothing more is pulled.
        await new Promise((resolve) => setTimeout(resolve, 0));
        assertEquals(counter.pulled, pulled);
      },
    });
  }
}

for (const engine of enginesFor("lzip")) {
  Deno.test({
    name:
      `lzip (${engine}): aborting the signal fails the pipe with the reason and kills the child`,
    sanitizeOps: true,
    sanitizeResources: true,
    async fn() {
      const unit = await bomb("lzip");
      const { runner, children } = recordingRunner();
      const controller = new AbortController();
      const reason = new Error("download cancelled by user");
      let got = 0;
      const piping = repeated(unit, 1 << 20, { pulled: 0 })
        .pipeThrough(
          decompressor("lzip", { engine, processRunner: runner, signal: controller.signal }),
        )
        .pipeTo(
          new WritableStream({
            write(chunk) {
              got += chunk.length;
              if (got >= 2 * MiB) controller.abort(reason);
            },
          }),
        );
      const error = await within(piping.then(() => undefined, (e) => e), 30_000, "abort");
      assertEquals(error, reason);
      for (const child of children) {
        const status = await within(child.status, 10_000, "child exit after abort");
        assertEquals(status.signal, "SIGKILL");
      }
    },
  });
}

Deno.test("an already aborted signal fails at once without starting a process", async () => {
  const { runner, children } = recordingRunner();
  const reason = new DOMException("gone", "AbortError");
  const stream = decompressor("xz", { signal: AbortSignal.abort(reason), processRunner: runner });
  await assertRejects(() =>
    chunks(new Uint8Array(10), 0).pipeThrough(stream).pipeTo(new WritableStream())
  );
  assertEquals(children.length, 0);
});

Deno.test("an external tool's failure names the command, its status and its stderr", async () => {
  const error = await expectFailure(random(1000), "xz", "external", "garbage");
  assertStringIncludes(error.message, "`xz -dcq");
  assertStringIncludes(error.message, "exited with status 1");
  assertStringIncludes(error.message, "File format not recognized");
});

// ---------------------------------------------------------------------------
// Big streams: more than 100 MB through zstd and lzip with flat memory.

/** Streams `total` bytes of text() through `cmd` into memory (compressed output only). */
async function compressStream(
  cmd: string,
  args: string[],
  total: number,
): Promise<{ compressed: Uint8Array; sha: string }> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "null" })
    .spawn();
  const hash = createHash("sha256");
  const feeding = (async () => {
    const writer = child.stdin.getWriter();
    const block = 4 * MiB;
    for (let p = 0, seed = 1; p < total; p += block, seed++) {
      const piece = text(Math.min(block, total - p), seed);
      hash.update(piece);
      await writer.write(piece);
    }
    await writer.close();
  })();
  const [out] = await Promise.all([child.output(), feeding]);
  assert(out.success, `${cmd} failed`);
  return { compressed: out.stdout, sha: hash.digest("hex") };
}

for (
  const [compression, cmd, args] of [
    ["zstd", "zstd", ["-3", "-q", "-c"]],
    ["lzip", "lzip", ["-0", "-c"]],
  ] as const
) {
  for (const engine of enginesFor(compression)) {
    Deno.test(`${compression} (${engine}): 160 MiB stream with flat memory`, async () => {
      const total = 160 * MiB;
      const { compressed, sha } = await compressStream(cmd, [...args], total);
      const start = Deno.memoryUsage().rss;
      let peak = start;
      const hash = createHash("sha256");
      let size = 0;
      for await (
        const chunk of chunks(compressed, 65536).pipeThrough(
          decompressor(compression, { engine, maxOutput: total }),
        )
      ) {
        hash.update(chunk);
        size += chunk.length;
        if ((size & (MiB - 1)) < chunk.length) peak = Math.max(peak, Deno.memoryUsage().rss);
      }
      assertEquals({ size, sha: hash.digest("hex") }, { size: total, sha });
      // The output is never accumulated: resident memory grows by far less than 160 MiB.
      assertLessOrEqual(
        peak - start,
        64 * MiB,
        `RSS grew by ${((peak - start) / MiB).toFixed(1)} MiB`,
      );
    });
  }
}

Deno.test("decompressor validates its options", () => {
  let thrown: unknown;
  try {
    decompressor("gzip", { maxOutput: -1 });
  } catch (e) {
    thrown = e;
  }
  assertInstanceOf(thrown, RangeError);
});
