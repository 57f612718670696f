/**
 * Events of NAR transfers, emitted by the fetch planner.
 *
 * @example
 * ```ts
 * import type { TransferEvents } from "./events.ts";
 * const onDone = (e: TransferEvents["transfer:done"]) => console.log(e.storePath, e.bytes);
 * ```
 * @module
 */
import type { SourceKind } from "./types.ts";

/** Transfer events (name → payload). */
export interface TransferEvents {
  "transfer:started": {
    transfer: number;
    storePath: string;
    narHash: string;
    narSize: number;
    policy: string;
  };
  "transfer:source": {
    transfer: number;
    source: SourceKind;
    url: string;
    offset: number;
    /** The consumer reads the NAR from a local file (P2P download) instead of through the daemon. */
    file?: boolean;
  };
  "transfer:progress": {
    transfer: number;
    bytes: number;
    narSize: number;
    source: SourceKind;
    transferred: number;
  };
  "transfer:source-failed": {
    transfer: number;
    source: SourceKind;
    url: string;
    offset: number;
    error: string;
  };
  "transfer:done": {
    transfer: number;
    storePath: string;
    narHash: string;
    bytes: number;
    durationMs: number;
    sources: {
      source: SourceKind;
      url: string;
      bytes: number;
      transferred: number;
      detail?: Record<string, unknown>;
    }[];
  };
  "transfer:failed": { transfer: number; storePath: string; error: string };
}

/** Emits transfer events. */
export type TransferEmitter = <K extends keyof TransferEvents>(
  type: K,
  payload: TransferEvents[K],
) => void;
