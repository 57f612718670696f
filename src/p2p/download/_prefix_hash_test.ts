import { assertEquals } from "@std/assert";
import { hexEncode } from "../../encoding/hex.ts";
import { sha256 } from "../../hash/sha256.ts";
import { BlockCache } from "../store/deno_block_cache.ts";
import { PrefixHash } from "./_prefix_hash.ts";

const BLOCK = 64;
const nar = new Uint8Array(7 * BLOCK + 5).map((_, i) => (i * 13 + 1) & 255);
const block = (i: number) => nar.subarray(i * BLOCK, Math.min(nar.length, (i + 1) * BLOCK));

async function withEntry(fn: (cache: BlockCache) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const cache = new BlockCache(dir, { maxBytes: 1 << 30 });
  try {
    await cache.load();
    await fn(cache);
  } finally {
    await cache.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const layout = () => ({
  narHash: sha256(nar),
  narSize: nar.length,
  blockSize: BLOCK,
  hashes: new Uint8Array(8 * 32),
});

Deno.test("PrefixHash: blocks written out of order and a resumed prefix hash to the NAR's SHA-256", async () => {
  await withEntry(async (cache) => {
    const entry = await cache.open(layout());
    // Two blocks from an earlier run (resuming): read back.
    await entry.writeBlocks(0, nar.subarray(0, 2 * BLOCK));
    const hash = new PrefixHash(entry);
    for (const i of [4, 2, 7, 3, 6, 5]) {
      await entry.writeBlock(i, block(i));
      hash.written(i, block(i));
    }
    assertEquals(hexEncode((await hash.digest())!), hexEncode(sha256(nar)));
    assertEquals(await hash.digest(), await hash.digest(), "the same digest on every call");
  });
});

Deno.test("PrefixHash: blocks not reported are read back as written; missing blocks give no digest", async () => {
  await withEntry(async (cache) => {
    const entry = await cache.open(layout());
    const hash = new PrefixHash(entry);
    const wrong = block(1).map((b) => b ^ 1);
    for (let i = 0; i < 8; i++) {
      if (i === 1) {
        // Written but never reported: the prefix stops there, then reads it back as written.
        await entry.writeBlock(1, wrong);
        continue;
      }
      await entry.writeBlock(i, block(i));
      hash.written(i, block(i));
    }
    const digest = (await hash.digest())!;
    const expected = nar.slice();
    expected.set(wrong, BLOCK);
    assertEquals(hexEncode(digest), hexEncode(sha256(expected)));
  });
  await withEntry(async (cache) => {
    const entry = await cache.open(layout());
    const hash = new PrefixHash(entry);
    await entry.writeBlock(0, block(0));
    hash.written(0, block(0));
    assertEquals(await hash.digest(), undefined);
  });
});
