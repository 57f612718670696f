/**
 * A source of NAR bytes (an HTTP URL, or the swarm), what is being fetched,
 * and the factories that produce sources for it. The planner opens sources
 * in policy order and, when one fails midway, opens the next one at the byte
 * offset reached, so the consumer sees one continuous, verified stream.
 *
 * @example
 * ```ts
 * import type { NarSource } from "./source.ts";
 * const source: NarSource = {
 *   kind: "http",
 *   url: "https://ci.guix.gnu.org/nar/zstd/…-hello",
 *   size: 123456,
 *   async open(offset, { signal }) {
 *     return { stream: someDecompressedStream(offset, signal), transferred: () => 0 };
 *   },
 * };
 * ```
 * @module
 */
import type { SourceKind } from "./types.ts";

/** An opened source: decompressed NAR bytes from the requested offset. */
export interface OpenedSource {
  /** NAR bytes starting at the offset given to `open`. */
  stream: ReadableStream<Uint8Array>;
  /** Bytes received on the wire so far (compressed bytes for HTTP). */
  transferred(): number;
  /** Per-peer or per-server detail for reports (optional). */
  detail?(): Record<string, unknown>;
}

/**
 * A NAR in (or being written to) a local file that a consumer which checks
 * the NarHash itself (the substitute helper) may read directly, instead of
 * receiving the bytes through the daemon.
 */
export interface FileNar {
  /** The file; NAR byte `i` is at offset `i`. */
  path: string;
  /** Bytes that may be read now (a prefix; never shrinks). */
  available(): number;
  /**
   * Resolves with the new `available()` once it exceeds `bytes` (at once if
   * it already does); rejects when the download fails before the end.
   */
  grown(bytes: number, signal: AbortSignal): Promise<number>;
  /** Bytes received on the wire so far. */
  transferred(): number;
  /** The reader is done (the file may go). */
  release(): void;
}

/** A candidate source. */
export interface NarSource {
  /** HTTP or P2P. */
  kind: SourceKind;
  /** Shown in progress traces (`@ download-started DEST URL SIZE`). */
  url: string;
  /** Download size when known (FileSize for HTTP). */
  size: number | null;
  /** Opens the source at `offset` (decompressed NAR offset). */
  open(offset: number, options: { signal: AbortSignal }): Promise<OpenedSource>;
  /** The NAR as a local file, for consumers that verify it themselves (optional). */
  openFile?(options: { signal: AbortSignal }): Promise<FileNar>;
  /**
   * The bytes are not corroborated before the end (e.g. a manifest that only
   * one peer vouched for): a consumer that cannot rewind gets nothing from this
   * source until the whole NAR was verified.
   */
  verifyFirst?: boolean;
  /** Called once the whole NAR was verified (e.g. to keep it for seeding). */
  verified?(): void;
  /** Called when the whole NAR from this source did not match the NarHash (e.g. to penalise peers). */
  rejected?(): void;
}

/** What is being fetched. */
export interface FetchTarget {
  storePath: string;
  narHash: string;
  narHashDigest: Uint8Array;
  narSize: number;
  /** Substitute URLs for the HTTP sources. */
  urls: readonly string[];
}

/** Produces sources of one kind for a target. */
export interface SourceFactory {
  /** Candidate sources, best first (lazily: later ones may need network requests). */
  sources(target: FetchTarget, options: { signal: AbortSignal }): AsyncIterable<NarSource>;
}
