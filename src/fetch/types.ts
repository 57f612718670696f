/**
 * The fetch vocabulary shared by the planner, its sources, the control
 * protocol that carries fetches to the helper and the gateway that answers
 * Nix: where bytes come from, which sources are tried first, and where a
 * fetch sends its output.
 *
 * @example
 * ```ts
 * import type { FetchSink } from "./types.ts";
 * const chunks: Uint8Array[] = [];
 * const sink: FetchSink = {
 *   source: async () => {},
 *   progress: async () => {},
 *   data: async (bytes) => void chunks.push(bytes),
 * };
 * ```
 * @module
 */

/** Where NAR bytes come from. */
export type SourceKind = "http" | "p2p";

/** Fetch policies: which source is tried first. */
export const POLICIES = ["p2p-first", "p2p-only", "http-first", "http-only"] as const;
/** A fetch policy. */
export type Policy = typeof POLICIES[number];

/** Where a fetch sends its output (the helper's connection, the gateway's response body). */
export interface FetchSink {
  /** Announces the source of the bytes that follow (again when switching sources at `offset`). */
  source(
    info: { source: SourceKind; url: string; offset: number; size: number | null },
  ): Promise<void>;
  /** Reports transfer progress (compressed bytes for HTTP). */
  progress(transferred: number, total: number | null): Promise<void>;
  /** Sends NAR bytes; resolves when the client can take more. */
  data(bytes: Uint8Array): Promise<void>;
  /**
   * Present when the client reads NARs from files: names the file that holds
   * the NAR from byte 0 (instead of data frames)...
   */
  file?(info: { source: SourceKind; url: string; path: string }): Promise<void>;
  /** ...and how much of it may be read so far (monotonic). */
  available?(bytes: number): Promise<void>;
}
