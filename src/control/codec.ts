/**
 * Frame codec of the control socket (docs/control-protocol.md).
 *
 * A frame is `u32 big-endian payload length | u8 type | payload`. Type 1 is a
 * UTF-8 JSON message, type 2 a chunk of NAR bytes belonging to the current
 * fetch. Lengths are bounded on decode; an oversized or unknown frame is a
 * {@linkcode ControlProtocolError} and the connection is dropped.
 *
 * @example
 * ```ts
 * import { encodeMessage, FrameDecoder } from "./codec.ts";
 * const d = new FrameDecoder();
 * d.push(encodeMessage({ kind: "status", id: 1 }));
 * d.next(); // { kind: "message", message: { kind: "status", id: 1 } }
 * ```
 * @module
 */
import { ControlProtocolError } from "./errors.ts";

/** Frame type byte of a JSON message. */
export const FRAME_MESSAGE = 1;
/** Frame type byte of a data chunk. */
export const FRAME_DATA = 2;
/** Default bound on a JSON message (a `have` of thousands of narinfos fits). */
export const DEFAULT_MAX_MESSAGE = 32 * 1024 * 1024;
/** Default bound on a data chunk. */
export const DEFAULT_MAX_DATA = 4 * 1024 * 1024;
const HEADER = 5;

/** A decoded frame. */
export type Frame =
  | { kind: "message"; message: unknown }
  | { kind: "data"; bytes: Uint8Array };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function header(length: number, type: number): Uint8Array {
  const h = new Uint8Array(HEADER);
  new DataView(h.buffer).setUint32(0, length);
  h[4] = type;
  return h;
}

/** Encodes a JSON message frame. */
export function encodeMessage(message: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(message));
  const out = new Uint8Array(HEADER + body.length);
  out.set(header(body.length, FRAME_MESSAGE));
  out.set(body, HEADER);
  return out;
}

/** The 5-byte header of a data frame carrying `length` bytes (send the bytes after it). */
export function dataHeader(length: number): Uint8Array {
  return header(length, FRAME_DATA);
}

/**
 * Incremental frame decoder: `push` bytes as they arrive, `next` returns
 * complete frames (or undefined when more bytes are needed).
 */
export class FrameDecoder {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #maxMessage: number;
  #maxData: number;

  /** Creates a decoder with the given size bounds. */
  constructor(options: { maxMessage?: number; maxData?: number } = {}) {
    this.#maxMessage = options.maxMessage ?? DEFAULT_MAX_MESSAGE;
    this.#maxData = options.maxData ?? DEFAULT_MAX_DATA;
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds received bytes. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#buffered += bytes.length;
  }

  /** Returns the next complete frame, or undefined. @throws {ControlProtocolError} */
  next(): Frame | undefined {
    if (this.#buffered < HEADER) return undefined;
    const head = this.#peek(HEADER);
    const length = new DataView(head.buffer, head.byteOffset, HEADER).getUint32(0);
    const type = head[4];
    if (type === FRAME_MESSAGE) {
      if (length > this.#maxMessage) {
        throw new ControlProtocolError(
          `message frame of ${length} bytes exceeds the ${this.#maxMessage}-byte limit`,
        );
      }
    } else if (type === FRAME_DATA) {
      if (length > this.#maxData) {
        throw new ControlProtocolError(
          `data frame of ${length} bytes exceeds the ${this.#maxData}-byte limit`,
        );
      }
    } else {
      throw new ControlProtocolError(`unknown frame type ${type}`);
    }
    if (this.#buffered < HEADER + length) return undefined;
    this.#take(HEADER);
    const payload = this.#take(length);
    if (type === FRAME_DATA) return { kind: "data", bytes: payload };
    let message: unknown;
    try {
      message = JSON.parse(decoder.decode(payload));
    } catch (e) {
      throw new ControlProtocolError(`message frame is not UTF-8 JSON: ${(e as Error).message}`);
    }
    return { kind: "message", message };
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.#chunks) {
      const take = Math.min(c.length, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (off === n) break;
    }
    return out;
  }

  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const take = Math.min(c.length, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    return out;
  }
}
