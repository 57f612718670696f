/**
 * Streaming decompression of NAR downloads: `none`, `gzip`, `zstd`, `xz`,
 * `lzip` (multi-member) and `bzip2`, with an output cap (zip-bomb
 * protection), backpressure, abort and cancel.
 *
 * Engines per format (`engine: "auto"` picks the first that can run;
 * figures from `bench/decompress.ts`, docs/benchmarks.md):
 *
 * | format | built in                               | external (on `PATH`)  | auto       |
 * |--------|----------------------------------------|-----------------------|------------|
 * | none   | identity                               | —                     | built in   |
 * | gzip   | `node:zlib` gunzip (multi-member)      | `gzip -dc`            | built in   |
 * | zstd   | `node:zlib` zstd (multi-frame)         | `zstd -dcq`           | built in   |
 * | xz     | TypeScript, LZMA2 only (`_xz.ts`)      | `xz -dcq`             | external   |
 * | lzip   | TypeScript (`_lzip.ts`, multi-member)  | `lzip -dc -a` (plzip) | external   |
 * | bzip2  | —                                      | `bzip2 -dc`           | external   |
 *
 * "auto" prefers the external tool for xz (1.3x faster than ours) and lzip
 * (plzip decodes members on both cores, 2x faster), and falls back to the
 * built-in decoder when the tool is missing (or use `engine: "builtin"` to
 * run without `--allow-run`).
 *
 * Every engine rejects truncated input, empty input and trailing garbage
 * (exceptions, inherent to the formats: gzip ignores trailing zero bytes, xz
 * accepts the stream padding its format defines). lzip is decoded like
 * `lzip -dc --trailing-error`: any byte after the last member is an error.
 *
 * @example
 * ```ts
 * import { decompressor, parseCompression } from "./mod.ts";
 * const compressed = new Blob([]).stream(); // an HTTP response body
 * const nar = compressed.pipeThrough(
 *   decompressor(parseCompression("zstd"), { maxOutput: 1064 }),
 * );
 * ```
 * @module
 */
import { type DecodeEngine, engineStream } from "./_engine_stream.ts";
import { identityEngine } from "./_identity.ts";
import { LZIP_MAX_DICTIONARY, LzipDecoder } from "./_lzip.ts";
import { nodeZlibEngine } from "./_node_zlib.ts";
import { processEngine } from "./_process_engine.ts";
import { syncEngine } from "./_sync_engine.ts";
import { XzDecoder } from "./_xz.ts";
import { type Compression, COMPRESSIONS } from "./compression.ts";
import { denoProcessRunner } from "./deno_process.ts";
import { UnsupportedCompressionError } from "./errors.ts";
import { checkLimit } from "./limit.ts";
import type { ProcessRunner } from "./process.ts";

export { type Compression, COMPRESSIONS, parseCompression } from "./compression.ts";
export { DecompressionError, OutputLimitError, UnsupportedCompressionError } from "./errors.ts";
export { limitOutput, type LimitOutputOptions } from "./limit.ts";
export type { ChildProcess, ProcessRunner, ProcessStatus } from "./process.ts";

/** Which implementation decodes: in-process, an external program, or the best available. */
export type DecompressionEngine = "auto" | "builtin" | "external";

/** Options of {@linkcode decompressor}. */
export interface DecompressorOptions {
  /** Fail with `OutputLimitError` once more than this many bytes came out (use `NarSize`). */
  maxOutput?: number;
  /** Aborting stops decoding, kills any child process and errors both sides with the reason. */
  signal?: AbortSignal;
  /** Default `"auto"`; see the module table. */
  engine?: DecompressionEngine;
  /**
   * Largest LZMA dictionary accepted (lzip: per member header; xz: memory
   * limit of `xz -dc`, plus 16 MiB). Default and maximum 512 MiB.
   */
  maxDictionarySize?: number;
  /** How external programs are found and started (default: `Deno.Command`). */
  processRunner?: ProcessRunner;
}

/** What {@linkcode selectDecoder} chose. */
export interface DecoderChoice {
  /** The engine that will run. */
  engine: "builtin" | "external";
  /** For `external`: the command line (absolute program path first). */
  command?: string[];
}

interface ExternalTool {
  name: string;
  args: (options: DecompressorOptions) => string[];
  failOnStderr?: RegExp;
}

const EXTERNAL: Partial<Record<Compression, ExternalTool>> = {
  gzip: { name: "gzip", args: () => ["-dc"] },
  zstd: { name: "zstd", args: () => ["-dcq"] },
  lzip: { name: "lzip", args: () => ["-dc", "-a"] },
  xz: {
    name: "xz",
    args: (o) => ["-dcq", `--memlimit-decompress=${dictionaryLimit(o) + (16 << 20)}`],
  },
  bzip2: {
    name: "bzip2",
    args: () => ["-dc"],
    failOnStderr: /trailing garbage after EOF/,
  },
};

const BUILTIN: ReadonlySet<Compression> = new Set(["none", "gzip", "zstd", "xz", "lzip"]);
const PREFER_EXTERNAL: ReadonlySet<Compression> = new Set(["lzip", "xz", "bzip2"]);

/**
 * Decides which engine would decode `compression` with these options.
 *
 * @throws {UnsupportedCompressionError} when no allowed engine can run here.
 *
 * @example
 * ```ts
 * import { selectDecoder } from "./mod.ts";
 * selectDecoder("lzip"); // { engine: "external", command: ["/usr/bin/lzip", "-dc", "-a"] }
 * selectDecoder("lzip", { engine: "builtin" }); // { engine: "builtin" }
 * ```
 */
export function selectDecoder(
  compression: Compression,
  options: DecompressorOptions = {},
): DecoderChoice {
  if (!COMPRESSIONS.includes(compression)) {
    throw new UnsupportedCompressionError(String(compression), "unknown compression");
  }
  const want = options.engine ?? "auto";
  const builtin = BUILTIN.has(compression);
  if (
    want === "builtin" || compression === "none" ||
    (want === "auto" && builtin && !PREFER_EXTERNAL.has(compression))
  ) {
    if (builtin) return { engine: "builtin" };
    throw new UnsupportedCompressionError(compression, "no built-in decoder for this format");
  }
  const tool = EXTERNAL[compression];
  const path = tool && (options.processRunner ?? denoProcessRunner).which(tool.name);
  if (tool && path) return { engine: "external", command: [path, ...tool.args(options)] };
  if (want === "auto" && builtin) return { engine: "builtin" };
  throw new UnsupportedCompressionError(
    compression,
    tool
      ? `\`${tool.name}\` is not on PATH${builtin ? "" : " and there is no built-in decoder"}`
      : "no external decoder for this format",
  );
}

/**
 * A stream that decompresses `compression` (structurally a `TransformStream`:
 * a `{ readable, writable }` pair for `pipeThrough`). It decodes only as fast
 * as its output is read, fails with `OutputLimitError` past `maxOutput`, with
 * `DecompressionError` on bad, truncated or trailing data, and with the
 * signal's reason on abort. Cancelling its output or aborting its input stops
 * decoding and kills any child process.
 *
 * @throws {UnsupportedCompressionError} when no allowed engine can run here.
 *
 * @example
 * ```ts
 * import { decompressor } from "./mod.ts";
 * const body = new Blob([]).stream(); // the compressed download
 * const nar = body.pipeThrough(decompressor("lzip", { maxOutput: 1 << 20 }));
 * ```
 */
export function decompressor(
  compression: Compression,
  options: DecompressorOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  if (options.maxOutput !== undefined) checkLimit(options.maxOutput);
  const choice = selectDecoder(compression, options);
  let engine: DecodeEngine;
  if (choice.engine === "external") {
    const [path, ...args] = choice.command!;
    engine = processEngine(options.processRunner ?? denoProcessRunner, {
      format: compression,
      path: path!,
      args,
      ...(EXTERNAL[compression]?.failOnStderr
        ? { failOnStderr: EXTERNAL[compression]!.failOnStderr! }
        : {}),
    });
  } else if (compression === "gzip" || compression === "zstd") {
    engine = nodeZlibEngine(compression);
  } else if (compression === "xz") {
    engine = syncEngine(
      new XzDecoder({ maxDictionarySize: dictionaryLimit(options), maxOutput: options.maxOutput }),
    );
  } else if (compression === "lzip") {
    engine = syncEngine(
      new LzipDecoder({
        maxDictionarySize: dictionaryLimit(options),
        maxOutput: options.maxOutput,
      }),
    );
  } else {
    engine = identityEngine();
  }
  return engineStream(engine, {
    format: compression,
    maxOutput: options.maxOutput,
    signal: options.signal,
  });
}

/**
 * The compressions this machine can decode with the given engine choice, in
 * {@linkcode COMPRESSIONS} order: use it to drop narinfo URLs we cannot read.
 *
 * @example
 * ```ts
 * import { supportedCompressions } from "./mod.ts";
 * supportedCompressions(); // ["none", "gzip", "zstd", "xz", "lzip", "bzip2"] with the tools installed
 * supportedCompressions({ engine: "builtin" }); // ["none", "gzip", "zstd", "lzip"]
 * ```
 */
export function supportedCompressions(
  options: Pick<DecompressorOptions, "engine" | "processRunner"> = {},
): Compression[] {
  return COMPRESSIONS.filter((c) => {
    try {
      selectDecoder(c, options);
      return true;
    } catch (e) {
      if (e instanceof UnsupportedCompressionError) return false;
      throw e;
    }
  });
}

function dictionaryLimit(options: DecompressorOptions): number {
  return options.maxDictionarySize ?? LZIP_MAX_DICTIONARY;
}
