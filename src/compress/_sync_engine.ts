/**
 * A {@linkcode DecodeEngine} around a synchronous, resumable decoder written
 * in TypeScript (lzip, xz). The engine owns the input buffer: a write is only
 * accepted once the decoder has asked for more input, so at most one input
 * piece (≤ 1 MiB) plus the decoder's unconsumed tail is ever buffered, and
 * output is produced only when the readable side pulls.
 *
 * @example
 * ```ts
 * import { NEED_INPUT, syncEngine } from "./_sync_engine.ts";
 * const engine = syncEngine({
 *   decode: (input) => input.ended ? null : NEED_INPUT, // decodes nothing
 * });
 * ```
 * @module
 */
import { Changes } from "./_changes.ts";
import type { DecodeEngine } from "./_engine_stream.ts";

/** Returned by {@linkcode SyncDecoder.decode} when it cannot progress without more input. */
export const NEED_INPUT = 0;

/** The unconsumed input a {@linkcode SyncDecoder} reads from. */
export interface InputBuffer {
  /** The bytes; valid from `pos` to `end`. May be replaced between calls. */
  bytes: Uint8Array;
  /** First unconsumed byte; the decoder advances it. */
  pos: number;
  /** End of the valid bytes. */
  end: number;
  /** Offset of `bytes[0]` in the whole compressed stream (for error messages). */
  offset: number;
  /** No more input will come: the decoder must finish or throw (truncated input). */
  ended: boolean;
}

/** A synchronous decoder driven by {@linkcode syncEngine}. */
export interface SyncDecoder {
  /**
   * Decodes from `input`, advancing `input.pos`. Returns a non-empty output
   * chunk (which the decoder must not modify later), {@linkcode NEED_INPUT},
   * or `null` once the stream ended correctly (only when `input.ended`).
   * Throws on bad data.
   */
  decode(input: InputBuffer): Uint8Array | typeof NEED_INPUT | null;
}

/** Largest piece of a written chunk copied into the input buffer at once. */
const MAX_PIECE = 1 << 20;

/**
 * Drives `decoder` as a {@linkcode DecodeEngine}.
 *
 * @example
 * ```ts
 * import { syncEngine } from "./_sync_engine.ts";
 * import { engineStream } from "./_engine_stream.ts";
 * import { LzipDecoder } from "./_lzip.ts";
 * const lzip = engineStream(syncEngine(new LzipDecoder()), { format: "lzip" });
 * ```
 */
export function syncEngine(decoder: SyncDecoder): DecodeEngine {
  const input: InputBuffer = {
    bytes: new Uint8Array(0),
    pos: 0,
    end: 0,
    offset: 0,
    ended: false,
  };
  let wantInput = true;
  let error: unknown;
  const changes = new Changes();
  const changed = () => changes.notify();
  const nextChange = () => changes.next();

  const append = (piece: Uint8Array) => {
    const left = input.end - input.pos;
    let bytes = input.bytes;
    if (bytes.length < left + piece.length) {
      bytes = new Uint8Array(
        Math.max(left + piece.length, Math.min(2 * bytes.length, MAX_PIECE * 2)),
      );
      bytes.set(input.bytes.subarray(input.pos, input.end));
    } else if (input.pos > 0) {
      bytes.copyWithin(0, input.pos, input.end);
    }
    bytes.set(piece, left);
    input.offset += input.pos;
    input.bytes = bytes;
    input.pos = 0;
    input.end = left + piece.length;
  };

  return {
    async write(chunk) {
      for (let start = 0; start < chunk.length; start += MAX_PIECE) {
        while (!wantInput && error === undefined) await nextChange();
        if (error !== undefined) throw error;
        append(chunk.subarray(start, start + MAX_PIECE));
        wantInput = false;
        changed();
      }
    },
    end() {
      input.ended = true;
      changed();
    },
    async read() {
      for (;;) {
        if (error !== undefined) throw error;
        const out = decoder.decode(input);
        if (out !== NEED_INPUT) return out;
        if (input.ended) throw new Error("decoder asked for input after the input ended");
        wantInput = true;
        changed();
        await nextChange();
      }
    },
    destroy(reason) {
      error ??= reason;
      changed();
    },
  };
}
