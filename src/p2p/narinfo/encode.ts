/**
 * The encoder of the narinfo exchange (docs/protocol.md §6): one message as a
 * frame, checked against the protocol's limits, and a request's answers
 * packed into `NARINFOS` messages that each fit in a frame. Pure.
 *
 * Frame: `u32 length | u8 version (1) | u8 type | u32 id | body`, big-endian.
 *
 * @example
 * ```ts
 * import { encodeNarinfoFrame } from "./encode.ts";
 * encodeNarinfoFrame({ kind: "narinfos", id: 7, first: 0, entries: [null] });
 * ```
 * @module
 */
import { isNix32 } from "../../encoding/nix32.ts";
import { WireError } from "../wire/errors.ts";
import { NARINFOS_HEADER, PAYLOAD_HEADER } from "./_parse.ts";
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
  NarinfoMessageType,
  type NarinfosMessage,
  type NarinfoWireMessage,
} from "./messages.ts";

const encoder = new TextEncoder();

/**
 * Encodes one message as a complete frame (length prefix included); an
 * `error` message longer than 1024 bytes of UTF-8 is cut.
 * @throws {WireError} naming the field when the message breaks the limits.
 *
 * @example
 * ```ts
 * import { encodeNarinfoFrame } from "./encode.ts";
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
 * import { packNarinfos } from "./encode.ts";
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

function u16(v: number): Uint8Array {
  return new Uint8Array([v >>> 8, v & 0xff]);
}

function checkU32(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new WireError(`${field} ${v} is not a u32`);
  }
}
