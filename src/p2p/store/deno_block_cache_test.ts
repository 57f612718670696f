import { assertEquals, assertRejects } from "@std/assert";
import { BlockCache } from "./deno_block_cache.ts";

Deno.test("a rejected entry is dropped with its layout: nothing of it is left on disk or resumed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cache = new BlockCache(dir, { maxBytes: 1 << 30 });
    await cache.load();
    const narHash = crypto.getRandomValues(new Uint8Array(32));
    const lyingHashes = crypto.getRandomValues(new Uint8Array(64));
    const entry = await cache.open({ narHash, narSize: 100, blockSize: 64, hashes: lyingHashes });
    await entry.writeBlock(0, new Uint8Array(64).fill(7));
    await entry.persist();
    await entry.reset();
    assertEquals(cache.get(entry.hex), undefined);
    assertEquals(await Array.fromAsync(Deno.readDir(dir)), []);
    await cache.close();
    const again = new BlockCache(dir, { maxBytes: 1 << 30 });
    await again.load();
    assertEquals(again.entries(), []);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eviction to make room tells onEvict of each evicted entry, never of a pinned one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const evicted: string[] = [];
    const cache = new BlockCache(dir, { maxBytes: 300, onEvict: (e) => evicted.push(e.hex) });
    await cache.load();
    const open = (fill: number) =>
      cache.open({
        narHash: new Uint8Array(32).fill(fill),
        narSize: 100,
        blockSize: 64,
        hashes: new Uint8Array(64),
      });
    const a = await open(1);
    const release = (await open(2)).pin();
    await open(3);
    assertEquals(evicted, []);
    const d = await open(4);
    // Over the cap: the unpinned least recently used entry goes (a), not the pinned one.
    assertEquals(evicted, [a.hex]);
    assertEquals(cache.get(a.hex), undefined);
    release();
    await cache.remove(d.hex);
    assertEquals(evicted, [a.hex], "an explicit remove is not an eviction");
    await cache.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("queued block writes land in order, count once written, and survive a restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const nar = new Uint8Array(5 * 64 + 10).map((_, i) => (i * 31) & 255);
    const narHash = crypto.getRandomValues(new Uint8Array(32));
    const layout = { narHash, narSize: nar.length, blockSize: 64, hashes: new Uint8Array(6 * 32) };
    const cache = new BlockCache(dir, { maxBytes: 1 << 30 });
    await cache.load();
    const entry = await cache.open(layout);
    const block = (i: number) => nar.subarray(i * 64, Math.min(nar.length, (i + 1) * 64));
    // Out of order, not awaited one by one (as a download does).
    const writes = [5, 3, 0].map((i) => entry.writeBlock(i, block(i)));
    assertEquals([0, 3, 5].map((i) => entry.has(i)), [false, false, false], "not before written");
    await Promise.all(writes);
    assertEquals([0, 3, 5].map((i) => entry.has(i)), [true, true, true]);
    // A run of blocks in one write (a small NAR fetched whole).
    await entry.writeBlocks(1, nar.subarray(64, 3 * 64));
    await entry.writeBlocks(4, block(4));
    assertEquals(entry.complete, true);
    await assertRejects(() => entry.writeBlock(2, new Uint8Array(63)), Error, "expected 64");
    await assertRejects(() => entry.writeBlocks(1, new Uint8Array(65)), Error, "not whole blocks");
    assertEquals(await entry.read(0, nar.length), nar);
    await cache.close();
    const again = new BlockCache(dir, { maxBytes: 1 << 30 });
    await again.load();
    const reloaded = again.get(entry.hex)!;
    assertEquals(reloaded.complete, true);
    assertEquals(await reloaded.read(0, nar.length), nar);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
