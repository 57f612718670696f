/**
 * Frame encoder of the block exchange (docs/protocol.md §3.1–§3.3). Every
 * field is checked before anything is written, so a peer never receives a
 * frame it would have to reject.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./encode.ts";
 * encodeFrame({ kind: "cancel", id: 7, indexes: [3] });
 * // Uint8Array [0,0,0,14, 1, 7, 0,0,0,7, 0,0,0,1, 0,0,0,3]
 * ```
 * @module
 */
import { concatBytes } from "../../encoding/bytes.ts";
import { byteLengthFor } from "./bitfield.ts";
import { checkManifestLayout, HASH_LENGTH, type Manifest, MAX_BLOCK_SIZE } from "./manifest.ts";
import { WireError } from "./errors.ts";
import {
  type BlockMessage,
  BULK_TICKET_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  ENCODING_VALUES,
  ERROR_CODE_VALUES,
  FRAME_HEADER_SIZE,
  HAVE_STATE_VALUES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_HAVE_HASHES,
  MAX_INDEXES,
  MAX_NARS,
  MAX_WHOLE_NAR,
  MessageType,
  type NarMessage,
  WIRE_VERSION,
  type WireMessage,
} from "./messages.ts";

/** Options of the encoders. */
export interface EncodeOptions {
  /** The receiver's `max_message_size` (payload bytes). Default 8 MiB. */
  maxMessageSize?: number;
}

const encoder = new TextEncoder();

/**
 * Encodes one message as a complete frame (length prefix included).
 * `error` messages longer than 1024 bytes of UTF-8 are cut at a character
 * boundary.
 * @throws {WireError} naming the field when the message cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./encode.ts";
 * const frame = encodeFrame({ kind: "get-manifest", id: 1, narHash: new Uint8Array(32) });
 * frame.length; // 42
 * ```
 */
export function encodeFrame(message: WireMessage, options: EncodeOptions = {}): Uint8Array {
  const parts = encodeFrameParts(message, options);
  if (parts.length === 1) return parts[0]!;
  return concatBytes(parts);
}

/**
 * Encodes one message as frame parts to send back to back, without copying
 * large payloads: a `block` gives `[header, data]` (the 19-byte header and
 * the caller's `data` itself), any other message a single part.
 * @throws {WireError} naming the field when the message cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeFrameParts } from "./encode.ts";
 * const data = new Uint8Array(262144);
 * const [header, body] = encodeFrameParts({ kind: "block", id: 1, index: 0, encoding: "raw", rawLength: data.length, data });
 * body === data; // true
 * ```
 */
export function encodeFrameParts(message: WireMessage, options: EncodeOptions = {}): Uint8Array[] {
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  checkU32("id", message.id, message.kind);
  if (message.kind === "block") {
    const header = encodeBlockHeader(message, options);
    return [header, message.data];
  }
  if (message.kind === "nar") return [encodeNarHeader(message, options), message.data];
  const w = new BodyWriter(message, max);
  switch (message.kind) {
    case "get-manifest":
    case "not-found":
      w.hash("narHash", message.narHash);
      break;
    case "manifest":
      writeManifest(w, message.manifest);
      break;
    case "get-blocks":
      w.hash("narHash", message.narHash);
      w.indexes(message.indexes);
      break;
    case "error": {
      const code = ERROR_CODE_VALUES[message.code];
      if (code === undefined) {
        throw new WireError(`cannot encode error: unknown code ${JSON.stringify(message.code)}`);
      }
      w.u16(code);
      w.bytes(truncateUtf8(message.message, MAX_ERROR_MESSAGE_BYTES));
      break;
    }
    case "cancel":
      w.indexes(message.indexes);
      break;
    case "have":
    case "get-nars": {
      const max = message.kind === "have" ? MAX_HAVE_HASHES : MAX_NARS;
      const n = message.narHashes.length;
      if (n < 1 || n > max) {
        throw new WireError(`cannot encode ${message.kind}: ${n} hashes, expected 1 to ${max}`);
      }
      w.u32(n);
      message.narHashes.forEach((h, i) => w.hash(`narHashes[${i}]`, h));
      break;
    }
    case "have-reply": {
      const n = message.states.length;
      if (n < 1 || n > MAX_HAVE_HASHES) {
        throw new WireError(
          `cannot encode have-reply: ${n} states, expected 1 to ${MAX_HAVE_HASHES}`,
        );
      }
      w.u32(n);
      const states = new Uint8Array(n);
      message.states.forEach((state, i) => {
        const v = HAVE_STATE_VALUES[state];
        if (v === undefined) {
          throw new WireError(`cannot encode have-reply: unknown state ${JSON.stringify(state)}`);
        }
        states[i] = v;
      });
      w.bytes(states);
      break;
    }
    case "bulk-open":
      break;
    case "bulk-ticket":
      if (!Number.isInteger(message.port) || message.port < 1 || message.port > 0xffff) {
        throw new WireError(`cannot encode bulk-ticket: port ${message.port} is not 1..65535`);
      }
      if (message.ticket.length !== BULK_TICKET_SIZE) {
        throw new WireError(
          `cannot encode bulk-ticket: ticket of ${message.ticket.length} bytes, expected ${BULK_TICKET_SIZE}`,
        );
      }
      w.u16(message.port);
      w.bytes(message.ticket);
      break;
    default:
      throw new WireError(
        `cannot encode: unknown message kind ${
          JSON.stringify((message as { kind: unknown }).kind)
        }`,
      );
  }
  return [w.finish()];
}

/**
 * The 19-byte header of a `block` frame; send `message.data` right after it.
 * @throws {WireError} on a bad index, encoding or length.
 *
 * @example
 * ```ts
 * import { encodeBlockHeader } from "./encode.ts";
 * encodeBlockHeader({ kind: "block", id: 2, index: 5, encoding: "raw", rawLength: 3, data: new Uint8Array(3) });
 * // Uint8Array [0,0,0,18, 1,4, 0,0,0,2, 0,0,0,5, 0, 0,0,0,3]
 * ```
 */
export function encodeBlockHeader(message: BlockMessage, options: EncodeOptions = {}): Uint8Array {
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const { id, index, encoding, rawLength, data } = message;
  checkU32("id", id, "block");
  checkU32("index", index, "block");
  const enc = ENCODING_VALUES[encoding];
  if (enc === undefined) {
    throw new WireError(`cannot encode block: unknown encoding ${JSON.stringify(encoding)}`);
  }
  if (!Number.isInteger(rawLength) || rawLength < 0 || rawLength > MAX_BLOCK_SIZE) {
    throw new WireError(
      `cannot encode block: rawLength ${rawLength} is not in [0, ${MAX_BLOCK_SIZE}]`,
    );
  }
  if (encoding === "raw" && data.length !== rawLength) {
    throw new WireError(
      `cannot encode block: raw data is ${data.length} bytes but rawLength is ${rawLength}`,
    );
  }
  const payload = 6 + 9 + data.length;
  if (payload > max) {
    throw new WireError(`cannot encode block: payload of ${payload} bytes exceeds ${max}`);
  }
  const out = new Uint8Array(FRAME_HEADER_SIZE + 9);
  const v = new DataView(out.buffer);
  v.setUint32(0, payload);
  out[4] = WIRE_VERSION;
  out[5] = MessageType.BLOCK;
  v.setUint32(6, id);
  v.setUint32(10, index);
  out[14] = enc;
  v.setUint32(15, rawLength);
  return out;
}

/**
 * The 47-byte header of a `nar` frame; send `message.data` right after it.
 * @throws {WireError} on a bad hash, encoding or length.
 *
 * @example
 * ```ts
 * import { encodeNarHeader } from "./encode.ts";
 * const header = encodeNarHeader({ kind: "nar", id: 1, narHash: new Uint8Array(32), encoding: "raw", rawLength: 3, data: new Uint8Array(3) });
 * header.length; // 47
 * ```
 */
export function encodeNarHeader(message: NarMessage, options: EncodeOptions = {}): Uint8Array {
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const { id, narHash, encoding, rawLength, data } = message;
  checkU32("id", id, "nar");
  if (!(narHash instanceof Uint8Array) || narHash.length !== HASH_LENGTH) {
    throw new WireError(`cannot encode nar: narHash must be ${HASH_LENGTH} bytes`);
  }
  const enc = ENCODING_VALUES[encoding];
  if (enc === undefined) {
    throw new WireError(`cannot encode nar: unknown encoding ${JSON.stringify(encoding)}`);
  }
  if (!Number.isInteger(rawLength) || rawLength < 0 || rawLength > MAX_WHOLE_NAR) {
    throw new WireError(
      `cannot encode nar: rawLength ${rawLength} is not in [0, ${MAX_WHOLE_NAR}]`,
    );
  }
  if (encoding === "raw" && data.length !== rawLength) {
    throw new WireError(
      `cannot encode nar: raw data is ${data.length} bytes but rawLength is ${rawLength}`,
    );
  }
  const payload = 6 + HASH_LENGTH + 5 + data.length;
  if (payload > max) {
    throw new WireError(`cannot encode nar: payload of ${payload} bytes exceeds ${max}`);
  }
  const out = new Uint8Array(FRAME_HEADER_SIZE + HASH_LENGTH + 5);
  const v = new DataView(out.buffer);
  v.setUint32(0, payload);
  out[4] = WIRE_VERSION;
  out[5] = MessageType.NAR;
  v.setUint32(6, id);
  out.set(narHash, FRAME_HEADER_SIZE);
  out[FRAME_HEADER_SIZE + HASH_LENGTH] = enc;
  v.setUint32(FRAME_HEADER_SIZE + HASH_LENGTH + 1, rawLength);
  return out;
}

function writeManifest(w: BodyWriter, m: Manifest): void {
  const problem = checkManifestLayout(m);
  if (problem !== undefined) throw new WireError(`cannot encode manifest: ${problem}`);
  w.hash("narHash", m.narHash);
  w.u64(m.narSize);
  w.u32(m.blockSize);
  w.u32(m.blockCount);
  w.u8(m.verified ? 1 : 0);
  const have = m.have.toBytes();
  if (have.length !== byteLengthFor(m.blockCount)) {
    throw new WireError(`cannot encode manifest: bitfield is ${have.length} bytes`);
  }
  w.bytes(have);
  w.bytes(m.hashes);
}

/** Collects body parts, then writes the frame in one allocation. */
class BodyWriter {
  #parts: Uint8Array[] = [];
  #length = 0;
  #type: number;
  #id: number;
  #kind: string;
  #max: number;

  constructor(message: WireMessage, max: number) {
    this.#type = TYPES[message.kind];
    this.#id = message.id;
    this.#kind = message.kind;
    this.#max = max;
  }

  hash(field: string, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array) || bytes.length !== HASH_LENGTH) {
      throw new WireError(
        `cannot encode ${this.#kind}: ${field} must be ${HASH_LENGTH} bytes, got ${
          bytes instanceof Uint8Array ? bytes.length : typeof bytes
        }`,
      );
    }
    this.bytes(bytes);
  }

  indexes(indexes: number[]): void {
    if (indexes.length < 1 || indexes.length > MAX_INDEXES) {
      throw new WireError(
        `cannot encode ${this.#kind}: ${indexes.length} indexes, expected 1 to ${MAX_INDEXES}`,
      );
    }
    const out = new Uint8Array(4 + 4 * indexes.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, indexes.length);
    indexes.forEach((index, i) => {
      checkU32(`indexes[${i}]`, index, this.#kind);
      v.setUint32(4 + 4 * i, index);
    });
    this.bytes(out);
  }

  u8(value: number): void {
    this.bytes(Uint8Array.of(value));
  }

  u16(value: number): void {
    const out = new Uint8Array(2);
    new DataView(out.buffer).setUint16(0, value);
    this.bytes(out);
  }

  u32(value: number): void {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    this.bytes(out);
  }

  u64(value: number): void {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(value));
    this.bytes(out);
  }

  bytes(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  finish(): Uint8Array {
    const payload = 6 + this.#length;
    if (payload > this.#max) {
      throw new WireError(
        `cannot encode ${this.#kind}: payload of ${payload} bytes exceeds ${this.#max}`,
      );
    }
    const out = new Uint8Array(4 + payload);
    const v = new DataView(out.buffer);
    v.setUint32(0, payload);
    out[4] = WIRE_VERSION;
    out[5] = this.#type;
    v.setUint32(6, this.#id);
    let at = FRAME_HEADER_SIZE;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

const TYPES: Record<WireMessage["kind"], number> = {
  "get-manifest": MessageType.GET_MANIFEST,
  "manifest": MessageType.MANIFEST,
  "get-blocks": MessageType.GET_BLOCKS,
  "block": MessageType.BLOCK,
  "not-found": MessageType.NOT_FOUND,
  "error": MessageType.ERROR,
  "cancel": MessageType.CANCEL,
  "have": MessageType.HAVE,
  "have-reply": MessageType.HAVE_REPLY,
  "get-nars": MessageType.GET_NARS,
  "nar": MessageType.NAR,
  "bulk-open": MessageType.BULK_OPEN,
  "bulk-ticket": MessageType.BULK_TICKET,
};

function checkU32(field: string, value: number, kind: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new WireError(`cannot encode ${kind}: ${field} ${value} is not a u32`);
  }
}

/** UTF-8 of `text`, cut to at most `max` bytes without splitting a character. */
function truncateUtf8(text: string, max: number): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
