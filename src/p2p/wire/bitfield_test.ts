import { assert, assertEquals, assertThrows } from "@std/assert";
import { Bitfield, byteLengthFor, trailingBitsIn } from "./bitfield.ts";

/** A reference model: a plain boolean array with the §3.3 layout written out by hand. */
function referenceBytes(bits: boolean[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => {
    if (b) out[Math.floor(i / 8)]! |= 1 << (7 - (i % 8));
  });
  return out;
}

Deno.test("bit i is byte i>>3, mask 0x80 >> (i & 7): hand-written layouts", () => {
  const b = new Bitfield(10);
  b.set(0);
  b.set(7);
  b.set(8);
  assertEquals(b.toBytes(), new Uint8Array([0x81, 0x80]));
  b.set(9);
  assertEquals(b.toBytes(), new Uint8Array([0x81, 0xc0]));
  assertEquals(Bitfield.full(10).toBytes(), new Uint8Array([0xff, 0xc0]));
  assertEquals(Bitfield.full(16).toBytes(), new Uint8Array([0xff, 0xff]));
  assertEquals(Bitfield.full(1).toBytes(), new Uint8Array([0x80]));
  assertEquals(Bitfield.full(0).toBytes(), new Uint8Array(0));
  assertEquals(new Bitfield(17).toBytes().length, 3);
});

Deno.test("random operations agree with a boolean-array model", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (const size of [1, 7, 8, 9, 63, 64, 65, 1000]) {
    const model = new Array<boolean>(size).fill(false);
    const b = new Bitfield(size);
    for (let step = 0; step < 3 * size; step++) {
      const i = rand(size);
      if (rand(3) === 0) {
        assertEquals(b.clear(i), model[i]);
        model[i] = false;
      } else {
        assertEquals(b.set(i), !model[i]);
        model[i] = true;
      }
      assertEquals(b.get(i), model[i]);
    }
    assertEquals(b.toBytes(), referenceBytes(model));
    assertEquals(b.count, model.filter(Boolean).length);
    assertEquals(b.isFull, model.every(Boolean));
    for (let from = 0; from <= size; from++) {
      const nextSet = model.findIndex((v, i) => i >= from && v);
      const nextClear = model.findIndex((v, i) => i >= from && !v);
      assertEquals(b.nextSet(from), nextSet, `nextSet(${from}) of size ${size}`);
      assertEquals(b.nextClear(from), nextClear, `nextClear(${from}) of size ${size}`);
    }
    assertEquals([...b], model.flatMap((v, i) => (v ? [i] : [])));
    const round = Bitfield.fromBytes(b.toBytes(), size);
    assert(round.equals(b));
    assertEquals(round.count, b.count);
  }
});

Deno.test("set/clear report changes and keep the count exact", () => {
  const b = new Bitfield(20);
  assert(b.set(3));
  assert(!b.set(3));
  assertEquals(b.count, 1);
  assert(b.clear(3));
  assert(!b.clear(3));
  assertEquals(b.count, 0);
  const full = Bitfield.full(20);
  assert(full.isFull);
  assertEquals(full.count, 20);
  assertEquals(full.nextClear(0), -1);
  full.clear(19);
  assert(!full.isFull);
  assertEquals(full.nextClear(0), 19);
  assert(new Bitfield(0).isFull);
  assertEquals(new Bitfield(0).nextSet(0), -1);
});

Deno.test("clone is independent; equals compares size and bits", () => {
  const a = Bitfield.full(9);
  const c = a.clone();
  c.clear(4);
  assert(a.get(4));
  assert(!a.equals(c));
  assert(!new Bitfield(8).equals(new Bitfield(9)));
  assert(new Bitfield(9).equals(new Bitfield(9)));
});

Deno.test("fromBytes rejects a wrong length and set trailing bits, naming the values", () => {
  assertThrows(
    () => Bitfield.fromBytes(new Uint8Array(2), 17),
    RangeError,
    "2 bytes for 17 bits, expected ceil(17 / 8) = 3",
  );
  assertThrows(
    () => Bitfield.fromBytes(new Uint8Array([0xff, 0xe0]), 10),
    RangeError,
    "got 0xe0",
  );
  assertEquals(Bitfield.fromBytes(new Uint8Array([0xff, 0xc0]), 10).count, 10);
  assertEquals(trailingBitsIn(new Uint8Array([0xc1]), 2), 0x01);
  assertEquals(trailingBitsIn(new Uint8Array([0xff]), 8), 0);
  assertEquals(byteLengthFor(9), 2);
});

Deno.test("fromBytes copies its input", () => {
  const bytes = new Uint8Array([0x80]);
  const b = Bitfield.fromBytes(bytes, 8);
  bytes[0] = 0;
  assert(b.get(0));
});

Deno.test("out-of-range indexes and sizes are RangeErrors naming the index", () => {
  const b = new Bitfield(8);
  assertThrows(() => b.get(8), RangeError, "index 8 out of range [0, 8)");
  assertThrows(() => b.set(-1), RangeError, "index -1");
  assertThrows(() => b.clear(1.5), RangeError, "index 1.5");
  assertThrows(() => b.nextSet(-1), RangeError, "got -1");
  assertEquals(b.nextClear(100), -1);
  assertThrows(() => new Bitfield(-1), RangeError, "got -1");
});
