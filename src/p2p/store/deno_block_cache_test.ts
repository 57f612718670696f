import { assertEquals } from "@std/assert";
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
