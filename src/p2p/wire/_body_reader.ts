/**
 * A bounds-checked cursor over one frame's payload. Every failure is a
 * {@linkcode WireError} naming the message, the field, the offending value
 * and its stream offset.
 *
 * @example
 * ```ts
 * import { BodyReader } from "./_body_reader.ts";
 * const r = new BodyReader(new Uint8Array([0, 0, 0, 5]), 0, "CANCEL");
 * r.u32("count"); // 5
 * r.end(); // ok: nothing left
 * ```
 * @module
 */
import { WireError } from "./errors.ts";

/** Reads big-endian fields from a payload; `base` is the stream offset of its first byte. */
export class BodyReader {
  /** Current position in the payload. */
  pos = 0;
  #bytes: Uint8Array;
  #view: DataView;
  #base: number;
  #name: string;

  /** Wraps `bytes` (a payload starting at stream offset `base`) of message `name`. */
  constructor(bytes: Uint8Array, base: number, name: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#base = base;
    this.#name = name;
  }

  /** Bytes left. */
  get remaining(): number {
    return this.#bytes.length - this.pos;
  }

  /** Stream offset of the current position. */
  get offset(): number {
    return this.#base + this.pos;
  }

  /** A WireError about `what` at the stream offset of payload position `pos`. */
  fail(what: string, pos: number = this.pos): WireError {
    return new WireError(`${this.#name}: ${what}`, this.#base + pos);
  }

  /** Reads a u8. */
  u8(field: string): number {
    this.#need(1, field);
    return this.#bytes[this.pos++]!;
  }

  /** Reads a u16. */
  u16(field: string): number {
    this.#need(2, field);
    const v = this.#view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  /** Reads a u32. */
  u32(field: string): number {
    this.#need(4, field);
    const v = this.#view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Reads a u64 that must fit a safe integer. */
  u64(field: string): number {
    this.#need(8, field);
    const v = this.#view.getBigUint64(this.pos);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.fail(`${field} ${v} exceeds 2^53 - 1`);
    }
    this.pos += 8;
    return Number(v);
  }

  /** A view of the next `n` bytes. */
  view(n: number, field: string): Uint8Array {
    this.#need(n, field);
    const out = this.#bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A copy of the next `n` bytes. */
  copy(n: number, field: string): Uint8Array {
    return this.view(n, field).slice();
  }

  /** The rest of the payload, as a view. */
  rest(): Uint8Array {
    const out = this.#bytes.subarray(this.pos);
    this.pos = this.#bytes.length;
    return out;
  }

  /** Requires the whole payload to be consumed. */
  end(): void {
    if (this.pos !== this.#bytes.length) {
      throw this.fail(`${this.#bytes.length - this.pos} trailing bytes after the body`);
    }
  }

  #need(n: number, field: string): void {
    if (this.pos + n > this.#bytes.length) {
      throw this.fail(
        `body too short: ${field} needs ${n} bytes, ${this.#bytes.length - this.pos} left`,
      );
    }
  }
}
