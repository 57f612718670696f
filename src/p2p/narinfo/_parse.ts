/**
 * The frame layout of the narinfo exchange, and the parser of one payload
 * (`version | type | id | body`) into a message, every field checked against
 * the protocol's limits. Errors are {@linkcode WireError}s naming the
 * message, the field and its stream offset.
 *
 * @example
 * ```ts
 * import { parsePayload } from "./_parse.ts";
 * parsePayload(new Uint8Array([1, 3, 0, 0, 0, 9, 0, 1]), 4); // { kind: "error", id: 9, code: "busy", message: "" }
 * ```
 * @module
 */
import { isNix32 } from "../../encoding/nix32.ts";
import { WireError } from "../wire/errors.ts";
import {
  HASH_PART_LENGTH,
  KEY_LENGTH,
  MAX_HASH_PARTS,
  MAX_KEYS,
  MAX_NARINFO_ERROR_BYTES,
  MAX_NARINFO_TEXT,
  type NarinfoErrorCode,
  type NarinfoFlavour,
  NarinfoMessageType,
  type NarinfoWireMessage,
} from "./messages.ts";

/** Bytes of the payload before the body: version, type, id. */
export const PAYLOAD_HEADER = 6;
/** Bytes of a `NARINFOS` body before its entries. */
export const NARINFOS_HEADER = 4;
/** The name of each message type, by its type byte (undefined: unknown type). */
export const NARINFO_TYPE_NAMES = [undefined, "GET_NARINFOS", "NARINFOS", "ERROR"] as const;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const FLAVOURS: (NarinfoFlavour | undefined)[] = [undefined, "guix", "nix"];
const CODES: (NarinfoErrorCode | undefined)[] = [undefined, "busy", "bad-request", "internal"];

/**
 * Parses one payload (`version | type | id | body`) whose header the frame
 * decoder already checked; `base` is its stream offset.
 * @throws {WireError} naming the message, the field and its offset.
 *
 * @example
 * ```ts
 * import { parsePayload } from "./_parse.ts";
 * parsePayload(new Uint8Array([1, 3, 0, 0, 0, 9, 0, 1]), 4).kind; // "error"
 * ```
 */
export function parsePayload(p: Uint8Array, base: number): NarinfoWireMessage {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const type = p[1]!;
  const name = NARINFO_TYPE_NAMES[type]!;
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
