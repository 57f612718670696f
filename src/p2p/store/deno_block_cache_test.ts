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
    const left = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assertEquals(left.filter((n) => n !== "index.jsonl"), []);
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

/** A cache in a fresh directory; `fn` gets the directory and a way to (re)open the cache. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function opened(dir: string): Promise<BlockCache> {
  const cache = new BlockCache(dir, { maxBytes: 1 << 30 });
  await cache.load();
  return cache;
}

const layoutOf = (fill: number) => ({
  narHash: new Uint8Array(32).fill(fill),
  narSize: 100,
  blockSize: 64,
  hashes: new Uint8Array(64).fill(fill),
});

Deno.test("the index: one file per entry, states batched into one journal, the same cache after a restart", async () => {
  await withDir(async (dir) => {
    const cache = await opened(dir);
    const [a, b, c] = await Promise.all(
      [1, 2, 3].map((f) => cache.open(layoutOf(f), `/gnu/store/${f}`)),
    );
    for (const e of [a!, b!, c!]) await e.writeBlock(0, new Uint8Array(64).fill(9));
    await b!.writeBlock(1, new Uint8Array(36).fill(8));
    await b!.markVerified("/gnu/store/b-verified");
    await cache.remove(c!.hex);
    await cache.close();
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assertEquals(
      names,
      [`${a!.hex}.nar`, `${b!.hex}.nar`, "index.jsonl"].sort(),
      "no directory per entry",
    );
    // Every change above went out in one append: a put and a state per entry kept.
    const lines = (await Deno.readTextFile(`${dir}/index.jsonl`)).trim().split("\n");
    assertEquals(lines.length, 4, lines.join("\n"));
    const again = await opened(dir);
    assertEquals(again.entries().map((e) => e.hex).sort(), [a!.hex, b!.hex].sort());
    const rb = again.get(b!.hex)!;
    assertEquals([rb.complete, rb.verified, rb.storePath], [true, true, "/gnu/store/b-verified"]);
    assertEquals(rb.layout.hashes, layoutOf(2).hashes);
    const ra = again.get(a!.hex)!;
    assertEquals([ra.has(0), ra.has(1), ra.verified, ra.storePath], [
      true,
      false,
      false,
      "/gnu/store/1",
    ]);
    assertEquals(await ra.read(0, 64), new Uint8Array(64).fill(9));
    await again.close();
  });
});

Deno.test("the index after a crash: a cut record is skipped, files without an entry and entries without their file go", async () => {
  await withDir(async (dir) => {
    const cache = await opened(dir);
    const a = await cache.open(layoutOf(1));
    const b = await cache.open(layoutOf(2));
    await a.writeBlock(0, new Uint8Array(64).fill(1));
    await b.writeBlock(0, new Uint8Array(64).fill(2));
    await cache.close();
    // The daemon died while appending, and b's file went missing; a stray file was left.
    await Deno.writeTextFile(`${dir}/index.jsonl`, `{"k":"st","h":"${a.hex}","have":"w`, {
      append: true,
    });
    await Deno.remove(b.path);
    const stray = `${dir}/${"ef".repeat(32)}.nar`;
    await Deno.writeFile(stray, new Uint8Array(10));
    const again = await opened(dir);
    assertEquals(again.entries().map((e) => e.hex), [a.hex]);
    assertEquals(again.get(a.hex)!.has(0), true);
    assertEquals(await Deno.stat(stray).then(() => true, () => false), false);
    await again.close();
    const text = await Deno.readTextFile(`${dir}/index.jsonl`);
    assertEquals(text.includes(b.hex), false, "rewritten at load: b forgotten");
    assertEquals(text.endsWith("\n"), true, "rewritten at load: no cut line left");
  });
});

Deno.test("a cache of the earlier layout (a directory per entry, state.json) is taken over at load", async () => {
  await withDir(async (dir) => {
    const hex = "cd".repeat(32);
    await Deno.mkdir(`${dir}/${hex}`);
    const data = new Uint8Array(100).map((_, i) => i);
    await Deno.writeFile(`${dir}/${hex}/data`, data);
    await Deno.writeTextFile(
      `${dir}/${hex}/state.json`,
      JSON.stringify({
        v: 1,
        narHash: hex,
        narSize: 100,
        blockSize: 64,
        hashes: btoa(String.fromCharCode(...new Uint8Array(64).fill(5))),
        have: btoa(String.fromCharCode(0xc0)), // blocks 0 and 1 (first block in the high bit)
        verified: true,
        storePath: "/gnu/store/old",
        lastUsed: 5,
      }),
    );
    const broken = "ab".repeat(32);
    await Deno.mkdir(`${dir}/${broken}`);
    await Deno.writeTextFile(`${dir}/${broken}/state.json`, "{not json");
    const cache = await opened(dir);
    const e = cache.get(hex)!;
    assertEquals([e.complete, e.verified, e.storePath, e.path], [
      true,
      true,
      "/gnu/store/old",
      `${dir}/${hex}.nar`,
    ]);
    assertEquals(await e.read(0, 100), data);
    assertEquals(cache.get(broken), undefined);
    await cache.close();
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((x) => x.name).sort();
    assertEquals(names, [`${hex}.nar`, "index.jsonl"]);
    const again = await opened(dir);
    assertEquals(again.get(hex)?.verified, true);
    await again.close();
  });
});

Deno.test("a NarHash removed and opened again under another layout is resumed with the new layout only", async () => {
  await withDir(async (dir) => {
    const cache = await opened(dir);
    const lying = await cache.open(layoutOf(1));
    await lying.writeBlock(0, new Uint8Array(64).fill(1));
    await lying.persist();
    await lying.reset(); // the whole NAR did not hash to the NarHash
    // The same NarHash from an honest manifest, in the same batch of the index.
    const honest = await cache.open({ ...layoutOf(1), hashes: new Uint8Array(64).fill(7) });
    await honest.writeBlock(1, new Uint8Array(36).fill(2));
    await cache.close();
    const again = await opened(dir);
    const e = again.get(honest.hex)!;
    assertEquals(e.layout.hashes, new Uint8Array(64).fill(7));
    assertEquals([e.has(0), e.has(1)], [false, true]);
    await again.close();
  });
});
