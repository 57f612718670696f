import { assert, assertEquals, assertLessOrEqual, assertRejects } from "@std/assert";
import { randomBytes } from "../../../tests/support/random.ts";
import { CompressedBlockCache, ENTRY_OVERHEAD } from "./block_cache.ts";
import { decodeBlock } from "./block_codec.ts";

const item = new Uint8Array(32).fill(1);
const otherItem = new Uint8Array(32).fill(2);

/** A compressible 64 KiB block that differs per index. */
function textBlock(index: number): Uint8Array {
  return new TextEncoder().encode(`block ${index} `.repeat(8192).slice(0, 65536));
}

Deno.test("a flash crowd costs one load and one compression per block", async () => {
  const cache = new CompressedBlockCache();
  let loads = 0;
  const load = async () => {
    loads++;
    await Promise.resolve();
    return textBlock(0);
  };
  const answers = await Promise.all(Array.from({ length: 50 }, () => cache.encoded(item, 0, load)));
  assertEquals(loads, 1);
  assertEquals(cache.stats.compressions, 1);
  assertEquals(cache.stats.misses, 1);
  assertEquals(cache.stats.hits, 49);
  for (const a of answers) {
    assertEquals(a.encoding, "zstd");
    assertEquals(decodeBlock(a.encoding, a.data, 65536), textBlock(0));
  }
  // Later requests come from the cache without loading.
  await cache.encoded(item, 0, load);
  assertEquals(loads, 1);
  assertEquals(cache.stats.compressions, 1);
});

Deno.test("incompressible blocks are remembered as raw: loaded again, never recompressed", async () => {
  const cache = new CompressedBlockCache();
  const random = randomBytes(65536);
  let loads = 0;
  const load = () => {
    loads++;
    return random;
  };
  for (let i = 0; i < 5; i++) {
    const got = await cache.encoded(item, 7, load);
    assertEquals(got.encoding, "raw");
    assert(got.data === random);
  }
  assertEquals(loads, 5);
  assertEquals(cache.stats.compressions, 1);
  assertEquals(cache.stats.bytes, ENTRY_OVERHEAD, "a raw marker holds no copy of the block");
});

Deno.test("the cache stays within its byte bound and evicts the least recently used", async () => {
  const first = await new CompressedBlockCache().encoded(item, 0, () => textBlock(0));
  const entry = first.data.length + ENTRY_OVERHEAD;
  const cache = new CompressedBlockCache({ maxBytes: 3 * entry + 10 });
  for (const i of [0, 1, 2]) await cache.encoded(item, i, () => textBlock(i));
  assertEquals(cache.stats.entries, 3);
  await cache.encoded(item, 0, () => textBlock(0)); // touch 0: block 1 becomes the oldest
  await cache.encoded(item, 3, () => textBlock(3)); // evicts 1
  assertLessOrEqual(cache.stats.bytes, 3 * entry + 10);
  let loaded = -1;
  for (const i of [0, 2, 3]) {
    await cache.encoded(item, i, () => {
      loaded = i;
      return textBlock(i);
    });
  }
  assertEquals(loaded, -1, "blocks 0, 2, 3 are still cached");
  await cache.encoded(item, 1, () => {
    loaded = 1;
    return textBlock(1);
  });
  assertEquals(loaded, 1, "block 1 was evicted");
  // An entry larger than the whole bound is never stored.
  const tiny = new CompressedBlockCache({ maxBytes: 100 });
  await tiny.encoded(item, 0, () => textBlock(0));
  assertEquals(tiny.stats.entries, 0);
});

Deno.test("drop forgets one item; keys are per (item, index)", async () => {
  const cache = new CompressedBlockCache();
  for (const i of [0, 1, 2]) await cache.encoded(item, i, () => textBlock(i));
  await cache.encoded(otherItem, 0, () => textBlock(9));
  const got = await cache.encoded(otherItem, 0, () => textBlock(0));
  assertEquals(decodeBlock(got.encoding, got.data, 65536), textBlock(9));
  assertEquals(cache.drop(item), 3);
  assertEquals(cache.stats.entries, 1);
  assertEquals(cache.drop("02".repeat(32)), 1);
  assertEquals(cache.stats.bytes, 0);
  await cache.encoded(item, 0, () => textBlock(0));
  cache.clear();
  assertEquals(cache.stats, { entries: 0, bytes: 0, hits: 1, misses: 5, compressions: 5 });
});

Deno.test("a failed load reaches every waiter and is not cached", async () => {
  const cache = new CompressedBlockCache();
  const failing = async () => {
    await Promise.resolve();
    throw new Error("disk read failed at block 4");
  };
  const waiters = Array.from({ length: 3 }, () => cache.encoded(item, 4, failing));
  for (const w of waiters) await assertRejects(() => w, Error, "disk read failed at block 4");
  assertEquals(cache.stats.entries, 0);
  const ok = await cache.encoded(item, 4, () => textBlock(4));
  assertEquals(ok.encoding, "zstd");
});
