/**
 * CRC-64/XZ (ECMA-182 polynomial, reflected, as the .xz format uses), with
 * 32-bit halves and slicing-by-4 tables: no BigInt in the loop.
 *
 * @example
 * ```ts
 * import { crc64 } from "./_crc64.ts";
 * crc64(new TextEncoder().encode("123456789")); // 0x995dc9bbdf1939fan
 * ```
 * @module
 */

/** Reflected ECMA-182 polynomial 0xC96C5795D7870F42, in halves. */
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;

const SLICES = 4;
const LO = new Uint32Array(256 * SLICES);
const HI = new Uint32Array(256 * SLICES);
for (let n = 0; n < 256; n++) {
  let lo = n;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  LO[n] = lo;
  HI[n] = hi;
}
for (let s = 1; s < SLICES; s++) {
  for (let n = 0; n < 256; n++) {
    const prevLo = LO[(s - 1) * 256 + n]!;
    const prevHi = HI[(s - 1) * 256 + n]!;
    const i = prevLo & 0xff;
    LO[s * 256 + n] = (((prevLo >>> 8) | (prevHi << 24)) ^ LO[i]!) >>> 0;
    HI[s * 256 + n] = ((prevHi >>> 8) ^ HI[i]!) >>> 0;
  }
}

/**
 * An incremental CRC-64/XZ.
 *
 * @example
 * ```ts
 * import { Crc64 } from "./_crc64.ts";
 * const crc = new Crc64().update(new Uint8Array([1, 2])).update(new Uint8Array([3]));
 * crc.bytes(); // 8 bytes, little-endian, as stored after an .xz block
 * ```
 */
export class Crc64 {
  #lo = 0xffffffff;
  #hi = 0xffffffff;

  /** Feeds `data`. */
  update(data: Uint8Array): this {
    let lo = this.#lo;
    let hi = this.#hi;
    let i = 0;
    const n = data.length;
    const end4 = n - (n & 3);
    while (i < end4) {
      lo ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
      const a = 768 + (lo & 0xff);
      const b = 512 + ((lo >>> 8) & 0xff);
      const c = 256 + ((lo >>> 16) & 0xff);
      const d = lo >>> 24;
      lo = LO[a]! ^ LO[b]! ^ LO[c]! ^ LO[d]! ^ hi;
      hi = HI[a]! ^ HI[b]! ^ HI[c]! ^ HI[d]!;
      i += 4;
    }
    while (i < n) {
      const x = (lo ^ data[i++]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ LO[x]!;
      hi = (hi >>> 8) ^ HI[x]!;
    }
    this.#lo = lo >>> 0;
    this.#hi = hi >>> 0;
    return this;
  }

  /** The CRC of everything fed so far, as 8 little-endian bytes (as stored in .xz). */
  bytes(): Uint8Array {
    const out = new Uint8Array(8);
    const view = new DataView(out.buffer);
    view.setUint32(0, ~this.#lo >>> 0, true);
    view.setUint32(4, ~this.#hi >>> 0, true);
    return out;
  }

  /** The CRC as a bigint. */
  value(): bigint {
    return (BigInt(~this.#hi >>> 0) << 32n) | BigInt(~this.#lo >>> 0);
  }
}

/**
 * One-shot CRC-64/XZ.
 *
 * @example
 * ```ts
 * import { crc64 } from "./_crc64.ts";
 * crc64(new Uint8Array(0)); // 0n
 * ```
 */
export function crc64(data: Uint8Array): bigint {
  return new Crc64().update(data).value();
}
