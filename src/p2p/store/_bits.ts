/**
 * Bit operations on the wire layout of have-bitfields (docs/protocol.md §3.3:
 * bit i is byte i>>3, mask 0x80 >> (i & 7)).
 * @module
 */

/** Bytes needed for `count` bits. */
export function bitBytes(count: number): number {
  return Math.ceil(count / 8);
}

/** Whether bit `i` is set. */
export function testBit(bits: Uint8Array, i: number): boolean {
  return (bits[i >> 3]! & (0x80 >> (i & 7))) !== 0;
}

/** Sets bit `i`. */
export function setBit(bits: Uint8Array, i: number): void {
  bits[i >> 3]! |= 0x80 >> (i & 7);
}

/** Number of set bits among the first `count`. */
export function countBits(bits: Uint8Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (testBit(bits, i)) n++;
  return n;
}
