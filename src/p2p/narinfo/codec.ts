/**
 * The codec of the narinfo exchange (docs/protocol.md §6): frame encoder,
 * an incremental bounded decoder, a stream reader, and the packing of a
 * request's answers into frames within the limit. Pure: bytes in, values
 * out. Every violation is a {@linkcode WireError} naming the field, the
 * offending value and its stream offset; after one the decoder stays failed
 * and the stream must be reset.
 *
 * Frame: `u32 length | u8 version (1) | u8 type | u32 id | body`, big-endian.
 *
 * @example
 * ```ts
 * import { encodeNarinfoFrame, NarinfoFrameDecoder } from "./codec.ts";
 * const d = new NarinfoFrameDecoder({ accept: "responses" });
 * d.push(encodeNarinfoFrame({ kind: "narinfos", id: 7, first: 0, entries: [null] }));
 * d.next(); // { kind: "narinfos", id: 7, first: 0, entries: [null] }
 * ```
 * @module
 */
import { isNix32 } from "../../encoding/nix32.ts";
import { WireError } from "../wire/errors.ts";
import type { ChunkLike } from "../wire/read.ts";
import {
  FLAVOUR_VALUES,
  HASH_PART_LENGTH,
  KEY_LENGTH,
  MAX_HASH_PARTS,
  MAX_KEYS,
  MAX_NARINFO_ERROR_BYTES,
  MAX_NARINFO_MESSAGE,
  MAX_NARINFO_TEXT,
  NARINFO_ERROR_VALUES,
  NARINFO_WIRE_VERSION,
  type NarinfoAccept,
  type NarinfoErrorCode,
  type NarinfoFlavour,
  NarinfoMessageType,
  type NarinfosMessage,
  type NarinfoWireMessage,
} from "./messages.ts";

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const FLAVOURS: (NarinfoFlavour | undefined)[] = [undefined, "guix", "nix"];
const CODES: (NarinfoErrorCode | undefined)[] = [undefined, "busy", "bad-request", "internal"];
const NAMES = [undefined, "GET_NARINFOS", "NARINFOS", "ERROR"] as const;
/** Bytes of the payload before the body: version, type, id. */
const PAYLOAD_HEADER = 6;
/** Bytes of a `NARINFOS` body before its entries. */
const NARINFOS_HEADER = 4;

/**
 * Encodes one message as a complete frame (length prefix included); an
 * `error` message longer than 1024 bytes of UTF-8 is cut.
 * @throws {WireError} naming the field when the message breaks the limits.
 *
 * @example
 * ```ts
 * import { encodeNarinfoFrame } from "./codec.ts";
 * encodeNarinfoFrame({ kind: "error", id: 1, code: "busy", message: "" }).length; // 4 + 6 + 2
 * ```
 */
export function encodeNarinfoFrame(message: NarinfoWireMessage): Uint8Array {
  checkU32("id", message.id);
  let body: Uint8Array[];
  let type: number;
  switch (message.kind) {
    case "get-narinfos": {
      type = NarinfoMessageType.GET_NARINFOS;
      const { keys, hashParts } = message;
      if (keys.length < 1 || keys.length > MAX_KEYS) {
        throw new WireError(`GET_NARINFOS: ${keys.length} keys, expected 1 to ${MAX_KEYS}`);
      }
      if (hashParts.length < 1 || hashParts.length > MAX_HASH_PARTS) {
        throw new WireError(
          `GET_NARINFOS: ${hashParts.length} hash parts, expected 1 to ${MAX_HASH_PARTS}`,
        );
      }
      const head = new Uint8Array(2);
      head[0] = FLAVOUR_VALUES[message.flavour];
      head[1] = keys.length;
      body = [head];
      for (const k of keys) {
        if (k.length !== KEY_LENGTH) {
          throw new WireError(`GET_NARINFOS: a key of ${k.length} bytes, expected ${KEY_LENGTH}`);
        }
        body.push(k);
      }
      body.push(u16(hashParts.length));
      for (const h of hashParts) {
        if (h.length !== HASH_PART_LENGTH || !isNix32(h)) {
          throw new WireError(`GET_NARINFOS: "${h.slice(0, 40)}" is not a store-path hash part`);
        }
        body.push(encoder.encode(h));
      }
      break;
    }
    case "narinfos": {
      type = NarinfoMessageType.NARINFOS;
      const { first, entries } = message;
      if (entries.length < 1 || first + entries.length > MAX_HASH_PARTS || first < 0) {
        throw new WireError(
          `NARINFOS: entries ${first}..${first + entries.length - 1} are not within 0..${
            MAX_HASH_PARTS - 1
          }`,
        );
      }
      body = [u16(first), u16(entries.length)];
      for (const e of entries) {
        if (e === null) {
          body.push(new Uint8Array([0]));
          continue;
        }
        const text = encoder.encode(e);
        if (text.length > MAX_NARINFO_TEXT) {
          throw new WireError(
            `NARINFOS: a narinfo of ${text.length} bytes (max ${MAX_NARINFO_TEXT})`,
          );
        }
        const head = new Uint8Array(5);
        head[0] = 1;
        new DataView(head.buffer).setUint32(1, text.length);
        body.push(head, text);
      }
      break;
    }
    case "error": {
      type = NarinfoMessageType.ERROR;
      let text = encoder.encode(message.message);
      if (text.length > MAX_NARINFO_ERROR_BYTES) {
        let cut = MAX_NARINFO_ERROR_BYTES;
        while (cut > 0 && (text[cut]! & 0xc0) === 0x80) cut--; // not inside a character
        text = text.subarray(0, cut);
      }
      body = [u16(NARINFO_ERROR_VALUES[message.code]), text];
      break;
    }
  }
  const bodyLength = body.reduce((n, b) => n + b.length, 0);
  const length = PAYLOAD_HEADER + bodyLength;
  if (length > MAX_NARINFO_MESSAGE) {
    throw new WireError(`frame of ${length} bytes exceeds the limit ${MAX_NARINFO_MESSAGE}`);
  }
  const out = new Uint8Array(4 + length);
  const view = new DataView(out.buffer);
  view.setUint32(0, length);
  out[4] = NARINFO_WIRE_VERSION;
  out[5] = type;
  view.setUint32(6, message.id);
  let at = 10;
  for (const b of body) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * The answers to request `id` as `NARINFOS` messages in order, each frame's
 * payload within `maxPayload` bytes (at least one entry per message).
 *
 * @example
 * ```ts
 * import { packNarinfos } from "./codec.ts";
 * packNarinfos(3, ["a", null, "b"], 1 << 20).length; // 1
 * ```
 */
export function packNarinfos(
  id: number,
  entries: readonly (string | null)[],
  maxPayload: number = MAX_NARINFO_MESSAGE,
): NarinfosMessage[] {
  const out: NarinfosMessage[] = [];
  let current: NarinfosMessage | undefined;
  let size = 0;
  entries.forEach((entry, i) => {
    const bytes = entry === null ? 1 : 5 + encoder.encode(entry).length;
    if (!current || size + bytes > maxPayload) {
      current = { kind: "narinfos", id, first: i, entries: [] };
      out.push(current);
      size = PAYLOAD_HEADER + NARINFOS_HEADER;
    }
    current.entries.push(entry);
    size += bytes;
  });
  return out;
}

/** Options of {@linkcode NarinfoFrameDecoder}. */
export interface NarinfoDecodeOptions {
  /** Which direction of messages is legal on this stream. */
  accept: NarinfoAccept;
  /** Largest accepted payload. Default 2 MiB for responses, 64 KiB for requests. */
  maxMessageSize?: number;
}

/**
 * `push` bytes as they arrive, call `next` until it returns undefined. A
 * frame's header is checked as soon as its bytes arrive, so the decoder never
 * holds more than one frame of at most `maxMessageSize` plus the last chunk.
 *
 * @example
 * ```ts
 * import { NarinfoFrameDecoder } from "./codec.ts";
 * const d = new NarinfoFrameDecoder({ accept: "requests" });
 * d.push(new Uint8Array([0, 0, 0, 6, 1, 2, 0, 0, 0, 1])); // a NARINFOS to a responder: throws
 * ```
 */
export class NarinfoFrameDecoder {
  #buffer = new Uint8Array(0);
  #offset = 0;
  #max: number;
  #accept: NarinfoAccept;
  #error: WireError | undefined;

  /** Creates a decoder. */
  constructor(options: NarinfoDecodeOptions) {
    this.#accept = options.accept;
    this.#max = options.maxMessageSize ??
      (options.accept === "requests" ? 64 * 1024 : MAX_NARINFO_MESSAGE);
  }

  /** Adds received bytes. @throws {WireError} if the frame header is invalid. */
  push(bytes: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (bytes.length === 0) return;
    const joined = new Uint8Array(this.#buffer.length + bytes.length);
    joined.set(this.#buffer);
    joined.set(bytes, this.#buffer.length);
    this.#buffer = joined;
    this.#header();
  }

  /** The next complete message, or undefined. @throws {WireError} */
  next(): NarinfoWireMessage | undefined {
    if (this.#error) throw this.#error;
    const length = this.#header();
    if (length === undefined || this.#buffer.length < 4 + length) return undefined;
    const payload = this.#buffer.subarray(4, 4 + length);
    const at = this.#offset;
    this.#buffer = this.#buffer.slice(4 + length);
    this.#offset += 4 + length;
    try {
      return parsePayload(payload, at + 4);
    } catch (e) {
      throw this.#fail(e instanceof WireError ? e : new WireError(String(e), at));
    }
  }

  /** Call at end of stream. @throws {WireError} if it ended inside a frame. */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.#buffer.length > 0) {
      throw this.#fail(
        new WireError(`stream ended inside a frame (${this.#buffer.length} bytes)`, this.#offset),
      );
    }
  }

  /** The current frame's payload length once its header is known valid. */
  #header(): number | undefined {
    const b = this.#buffer;
    if (b.length < 4) return undefined;
    const length = new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
    const at = this.#offset;
    if (length > this.#max) {
      throw this.#fail(new WireError(`frame length ${length} exceeds the limit ${this.#max}`, at));
    }
    if (length < PAYLOAD_HEADER) {
      throw this.#fail(new WireError(`frame length ${length} is shorter than 6`, at));
    }
    if (b.length >= 5 && b[4] !== NARINFO_WIRE_VERSION) {
      throw this.#fail(
        new WireError(`unsupported version ${b[4]}, expected ${NARINFO_WIRE_VERSION}`, at + 4),
      );
    }
    if (b.length >= 6) {
      const type = b[5]!;
      const name = NAMES[type];
      if (name === undefined) {
        throw this.#fail(new WireError(`unknown message type ${type}`, at + 5));
      }
      const isRequest = type === NarinfoMessageType.GET_NARINFOS;
      if (isRequest !== (this.#accept === "requests")) {
        throw this.#fail(
          new WireError(`${name} is not a ${this.#accept.slice(0, -1)} message`, at + 5),
        );
      }
    }
    return length;
  }

  #fail(error: WireError): WireError {
    this.#error = error;
    this.#buffer = new Uint8Array(0);
    return error;
  }
}

/**
 * Yields every message of `source` in order; ends when the source ends at a
 * frame boundary; stops when `signal` aborts (also while waiting for bytes).
 * @throws {WireError} on a protocol violation.
 *
 * @example
 * ```ts
 * import { encodeNarinfoFrame, readNarinfoFrames } from "./codec.ts";
 * const frames = [encodeNarinfoFrame({ kind: "error", id: 2, code: "busy", message: "later" })];
 * for await (const m of readNarinfoFrames(frames, { accept: "responses" })) console.log(m.kind);
 * ```
 */
export async function* readNarinfoFrames(
  source: AsyncIterable<ChunkLike> | Iterable<ChunkLike>,
  options: NarinfoDecodeOptions & { signal?: AbortSignal | undefined },
): AsyncGenerator<NarinfoWireMessage, void, undefined> {
  const decoder = new NarinfoFrameDecoder(options);
  const { signal } = options;
  const aborted = signal
    ? new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    })
    : undefined;
  aborted?.catch(() => {});
  const iterator = Symbol.asyncIterator in source
    ? (source as AsyncIterable<ChunkLike>)[Symbol.asyncIterator]()
    : (source as Iterable<ChunkLike>)[Symbol.iterator]();
  let finished = false;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const next = Promise.resolve(iterator.next());
      const step = aborted ? await Promise.race([next, aborted]) : await next;
      if (step.done) {
        finished = true;
        break;
      }
      const chunk = step.value;
      if (chunk instanceof Uint8Array) decoder.push(chunk);
      else if (typeof chunk[Symbol.iterator] === "function") {
        for (const piece of chunk as Iterable<Uint8Array>) decoder.push(piece);
      } else decoder.push(chunk.subarray());
      for (let m = decoder.next(); m !== undefined; m = decoder.next()) yield m;
    }
    decoder.end();
  } finally {
    if (!finished) {
      try {
        const r = iterator.return?.();
        if (r instanceof Promise) r.catch(() => {});
      } catch {
        // the source's own clean-up failed; the reading error is what matters
      }
    }
  }
}

/** Parses one payload (`version | type | id | body`); `base` is its stream offset. */
function parsePayload(p: Uint8Array, base: number): NarinfoWireMessage {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const type = p[1]!;
  const name = NAMES[type]!;
  const id = view.getUint32(2);
  let pos = PAYLOAD_HEADER;
  const fail = (what: string, at = pos) => new WireError(`${name}: ${what}`, base + at);
  const need = (n: number, field: string) => {
    if (pos + n > p.length) {
      throw fail(`body too short: ${field} needs ${n} bytes, ${p.length - pos} left`);
    }
  };
  const u8 = (field: string) => {
    need(1, field);
    return p[pos++]!;
  };
  const u16r = (field: string) => {
    need(2, field);
    const v = view.getUint16(pos);
    pos += 2;
    return v;
  };
  let message: NarinfoWireMessage;
  if (type === NarinfoMessageType.GET_NARINFOS) {
    const flavourAt = pos;
    const flavour = FLAVOURS[u8("flavour")];
    if (!flavour) throw fail(`unknown flavour ${p[flavourAt]}`, flavourAt);
    const keyCount = u8("key count");
    if (keyCount < 1 || keyCount > MAX_KEYS) {
      throw fail(`key count ${keyCount} is not within 1..${MAX_KEYS}`, pos - 1);
    }
    const keys: Uint8Array[] = [];
    for (let i = 0; i < keyCount; i++) {
      need(KEY_LENGTH, `key ${i}`);
      keys.push(p.slice(pos, pos + KEY_LENGTH));
      pos += KEY_LENGTH;
    }
    const count = u16r("count");
    if (count < 1 || count > MAX_HASH_PARTS) {
      throw fail(`count ${count} is not within 1..${MAX_HASH_PARTS}`, pos - 2);
    }
    const hashParts: string[] = [];
    for (let i = 0; i < count; i++) {
      need(HASH_PART_LENGTH, `hash part ${i}`);
      let h = "";
      for (let j = 0; j < HASH_PART_LENGTH; j++) h += String.fromCharCode(p[pos + j]!);
      if (!isNix32(h)) throw fail(`hash part ${i} "${h}" is not nix32`);
      hashParts.push(h);
      pos += HASH_PART_LENGTH;
    }
    message = { kind: "get-narinfos", id, flavour, keys, hashParts };
  } else if (type === NarinfoMessageType.NARINFOS) {
    const first = u16r("first");
    const count = u16r("count");
    if (count < 1 || first + count > MAX_HASH_PARTS) {
      throw fail(`entries ${first}..${first + count - 1} are not within 0..${MAX_HASH_PARTS - 1}`);
    }
    const entries: (string | null)[] = [];
    for (let i = 0; i < count; i++) {
      const flagAt = pos;
      const flag = u8(`entry ${i} flag`);
      if (flag === 0) {
        entries.push(null);
        continue;
      }
      if (flag !== 1) throw fail(`entry ${i} flag ${flag} is neither 0 nor 1`, flagAt);
      need(4, `entry ${i} length`);
      const length = view.getUint32(pos);
      if (length > MAX_NARINFO_TEXT) {
        throw fail(`entry ${i} of ${length} bytes exceeds ${MAX_NARINFO_TEXT}`);
      }
      pos += 4;
      need(length, `entry ${i} text`);
      try {
        entries.push(utf8.decode(p.subarray(pos, pos + length)));
      } catch {
        throw fail(`entry ${i} is not valid UTF-8`);
      }
      pos += length;
    }
    message = { kind: "narinfos", id, first, entries };
  } else {
    const codeAt = pos;
    const code = CODES[u16r("code")];
    if (!code) throw fail(`unknown error code ${view.getUint16(codeAt)}`, codeAt);
    const rest = p.subarray(pos);
    if (rest.length > MAX_NARINFO_ERROR_BYTES) {
      throw fail(`message of ${rest.length} bytes exceeds ${MAX_NARINFO_ERROR_BYTES}`);
    }
    let text: string;
    try {
      text = utf8.decode(rest);
    } catch {
      throw fail("message is not valid UTF-8");
    }
    pos = p.length;
    message = { kind: "error", id, code, message: text };
  }
  if (pos !== p.length) throw fail(`${p.length - pos} trailing bytes after the body`);
  return message;
}

function u16(v: number): Uint8Array {
  return new Uint8Array([v >>> 8, v & 0xff]);
}

function checkU32(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new WireError(`${field} ${v} is not a u32`);
  }
}
