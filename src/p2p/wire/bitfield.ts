/**
 * A fixed-size bit set with the wire layout of a manifest's have-bitfield
 * (docs/protocol.md §3.3): bit `i` is byte `i >> 3`, mask `0x80 >> (i & 7)`,
 * and the unused trailing bits of the last byte are zero.
 *
 * @example
 * ```ts
 * import { Bitfield } from "./bitfield.ts";
 * const have = new Bitfield(10);
 * have.set(0);
 * have.set(9);
 * have.toBytes(); // Uint8Array [0x80, 0x40]
 * have.nextClear(0); // 1
 * ```
 * @module
 */

/**
 * `size` bits, all clear at construction. Indexes outside `[0, size)` are a
 * `RangeError` naming the index and the size.
 *
 * @example
 * ```ts
 * import { Bitfield } from "./bitfield.ts";
 * const b = Bitfield.full(3);
 * b.clear(1);
 * [b.count, b.isFull, b.nextSet(1)]; // [2, false, 2]
 * ```
 */
export class Bitfield {
  /** Number of bits (the block count). */
  readonly size: number;
  #bytes: Uint8Array;
  #count = 0;

  /** Creates `size` clear bits. @throws {RangeError} if `size` is not a non-negative integer. */
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`Bitfield: size must be a non-negative integer, got ${size}`);
    }
    this.size = size;
    this.#bytes = new Uint8Array(byteLengthFor(size));
  }

  /** A bitfield with all `size` bits set. */
  static full(size: number): Bitfield {
    const b = new Bitfield(size);
    b.#bytes.fill(0xff);
    const tail = size & 7;
    if (tail !== 0) b.#bytes[b.#bytes.length - 1] = (0xff00 >> tail) & 0xff;
    b.#count = size;
    return b;
  }

  /**
   * Reads the wire form of a `size`-bit field (the bytes are copied).
   * @throws {RangeError} if the length is not `ceil(size / 8)` or a trailing bit past `size` is set.
   */
  static fromBytes(bytes: Uint8Array, size: number): Bitfield {
    const b = new Bitfield(size);
    if (bytes.length !== b.#bytes.length) {
      throw new RangeError(
        `Bitfield: ${bytes.length} bytes for ${size} bits, expected ceil(${size} / 8) = ${b.#bytes.length}`,
      );
    }
    const extra = trailingBitsIn(bytes, size);
    if (extra !== 0) {
      throw new RangeError(
        `Bitfield: unused trailing bits of the last byte (byte ${bytes.length - 1}) must be zero` +
          ` for ${size} bits, got 0x${bytes[bytes.length - 1]!.toString(16).padStart(2, "0")}`,
      );
    }
    b.#bytes.set(bytes);
    let count = 0;
    for (const byte of bytes) count += POPCOUNT[byte]!;
    b.#count = count;
    return b;
  }

  /** Number of set bits. */
  get count(): number {
    return this.#count;
  }

  /** True when every bit is set (a bitfield of size 0 is full). */
  get isFull(): boolean {
    return this.#count === this.size;
  }

  /** Whether bit `i` is set. */
  get(i: number): boolean {
    this.#check(i);
    return (this.#bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }

  /** Sets bit `i`; returns true if it was clear. */
  set(i: number): boolean {
    this.#check(i);
    const mask = 0x80 >> (i & 7);
    const byte = this.#bytes[i >> 3]!;
    if ((byte & mask) !== 0) return false;
    this.#bytes[i >> 3] = byte | mask;
    this.#count++;
    return true;
  }

  /** Clears bit `i`; returns true if it was set. */
  clear(i: number): boolean {
    this.#check(i);
    const mask = 0x80 >> (i & 7);
    const byte = this.#bytes[i >> 3]!;
    if ((byte & mask) === 0) return false;
    this.#bytes[i >> 3] = byte & ~mask;
    this.#count--;
    return true;
  }

  /** The first set bit at or after `from`, or -1. `from >= size` gives -1. */
  nextSet(from: number): number {
    return this.#scan(from, 0x00);
  }

  /** The first clear bit at or after `from`, or -1. `from >= size` gives -1. */
  nextClear(from: number): number {
    return this.#scan(from, 0xff);
  }

  /** The wire form: a copy of the `ceil(size / 8)` bytes. */
  toBytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /** An independent copy. */
  clone(): Bitfield {
    const b = new Bitfield(this.size);
    b.#bytes.set(this.#bytes);
    b.#count = this.#count;
    return b;
  }

  /** True when `other` has the same size and the same bits. */
  equals(other: Bitfield): boolean {
    if (other.size !== this.size || other.#count !== this.#count) return false;
    const a = this.#bytes;
    const b = other.#bytes;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** Iterates over the indexes of the set bits, in increasing order. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = this.nextSet(0); i !== -1; i = this.nextSet(i + 1)) yield i;
  }

  /** Finds the first bit at or after `from` whose byte differs from `skip` at that bit. */
  #scan(from: number, skip: number): number {
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new RangeError(`Bitfield: start index must be a non-negative integer, got ${from}`);
    }
    const bytes = this.#bytes;
    for (let i = from; i < this.size;) {
      const byte = bytes[i >> 3]!;
      if ((i & 7) === 0 && byte === skip) {
        i += 8;
        continue;
      }
      const bit = (byte & (0x80 >> (i & 7))) !== 0;
      if (bit !== (skip === 0xff)) return i;
      i++;
    }
    return -1;
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new RangeError(`Bitfield: index ${i} out of range [0, ${this.size})`);
    }
  }
}

/**
 * `ceil(size / 8)`: the wire length of a `size`-bit field.
 *
 * @example
 * ```ts
 * import { byteLengthFor } from "./bitfield.ts";
 * byteLengthFor(9); // 2
 * ```
 */
export function byteLengthFor(size: number): number {
  return Math.ceil(size / 8);
}

/**
 * The unused trailing bits (past `size`) of the last byte of `bytes`, as a
 * mask of the offending bits; 0 when they are all clear as the wire requires.
 *
 * @example
 * ```ts
 * import { trailingBitsIn } from "./bitfield.ts";
 * trailingBitsIn(new Uint8Array([0xc1]), 2); // 0x01: bit 7 of the byte is past size 2
 * ```
 */
export function trailingBitsIn(bytes: Uint8Array, size: number): number {
  const tail = size & 7;
  if (tail === 0 || bytes.length === 0) return 0;
  return bytes[bytes.length - 1]! & (0xff >> tail);
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, n) => {
  let c = 0;
  for (let v = n; v !== 0; v &= v - 1) c++;
  return c;
});
