import { assertEquals, assertRejects } from "@std/assert";
import type { CacheEntry } from "../store/deno_block_cache.ts";
import { Bitfield } from "../wire/bitfield.ts";
import { BlockHasher } from "../wire/manifest.ts";
import { PeerBook } from "../peer_book.ts";
import { FairRateLimiter } from "../rate/mod.ts";
import type { BlockChannel, ChannelHandlers } from "./channel.ts";
import { SwarmDownload } from "./swarm_download.ts";

const BLOCK = 16384;

/** An in-memory stand-in for a cache entry. */
function memoryEntry(blockCount: number): CacheEntry {
  const have = new Set<number>();
  return {
    has: (i: number) => have.has(i),
    writeBlock: (i: number) => {
      have.add(i);
      return Promise.resolve();
    },
    pin: () => () => {},
    persist: () => Promise.resolve(),
    get haveCount() {
      return have.size;
    },
    blockCount,
  } as unknown as CacheEntry;
}

Deno.test({
  name: "a peer that goes silent with many requests in flight is dropped, not a crash",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // 64 blocks; the peer answers the first 12 requests (its window grows in slow start),
    // then never again: more than 4 of its requests expire in the same tick. Dropping it at
    // the 4th timeout used to leave the rest of that batch to fail on an unknown peer, an
    // exception thrown from a timer (the daemon process died).
    const data = new Uint8Array(64 * BLOCK).map((_, i) => (i * 7) & 255);
    const manifest = new BlockHasher(BLOCK).update(data).finish();
    const sent: number[] = [];
    let handlers: ChannelHandlers | undefined;
    const state = { closed: false };
    const channel = {
      peer: "silent-peer",
      get closed() {
        return state.closed;
      },
      requestBlocks(_narHash: Uint8Array, indexes: number[]): number {
        for (const index of indexes) {
          sent.push(index);
          if (sent.length > 12) continue; // silent from now on
          const raw = data.subarray(index * BLOCK, (index + 1) * BLOCK);
          queueMicrotask(() =>
            handlers!.block(channel, {
              kind: "block",
              id: 1,
              index,
              encoding: "raw",
              rawLength: raw.length,
              data: raw,
            })
          );
        }
        return 1;
      },
      cancel() {},
      close() {
        state.closed = true;
      },
      manifest: () => Promise.reject(new Error("not used")),
    } as unknown as BlockChannel;
    const dropped: string[] = [];
    const download = new SwarmDownload({
      entry: memoryEntry(manifest.blockCount),
      manifest,
      peerBook: new PeerBook({ banThreshold: 3, banDurationMs: 60_000, maxPeers: 16 }),
      limiter: new FairRateLimiter({ bytesPerSecond: 0 }),
      requestTimeoutMs: 300,
      stallTimeoutMs: 600,
      emit: (type, payload) => {
        if (type === "download:peer-dropped") dropped.push((payload as { reason: string }).reason);
      },
      channels: (h) => {
        handlers = h;
        return Promise.resolve([channel]);
      },
    });
    await download.start();
    await assertRejects(() => download.done, Error, "stalled");
    assertEquals(dropped.length, 1, dropped.join("; "));
    assertEquals(/timeouts in a row/.test(dropped[0]!), true, dropped[0]);
    assertEquals(sent.length > 16, true, `the window grew past 4: ${sent.length} requests`);
  },
});

Deno.test({
  name: "a partial peer whose refreshed manifest has another layout is dropped, not a crash",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const data = new Uint8Array(4 * BLOCK).map((_, i) => (i * 13) & 255);
    const manifest = new BlockHasher(BLOCK).update(data).finish();
    // The same NAR under another block size: a valid manifest, but not this download's.
    const other = new BlockHasher(2 * BLOCK).update(data).finish();
    const partial = new Bitfield(manifest.blockCount);
    partial.set(0);
    const channel = {
      peer: "relay",
      closed: false,
      requestBlocks: () => 1, // never answers: only its refresh matters here
      cancel() {},
      close() {},
      manifest: () => Promise.resolve(other),
    } as unknown as BlockChannel;
    const dropped = Promise.withResolvers<string>();
    const download: SwarmDownload = new SwarmDownload({
      entry: memoryEntry(manifest.blockCount),
      manifest,
      peerBook: new PeerBook({ banThreshold: 3, banDurationMs: 60_000, maxPeers: 16 }),
      limiter: new FairRateLimiter({ bytesPerSecond: 0 }),
      requestTimeoutMs: 10_000,
      stallTimeoutMs: 10_000,
      emit: (type, payload) => {
        if (type === "download:peer-dropped") {
          dropped.resolve((payload as { reason: string }).reason);
        }
      },
      channels: () => {
        download.setHave("relay", partial);
        return Promise.resolve([channel]);
      },
    });
    await download.start();
    const timer = setTimeout(() => dropped.reject(new Error("not dropped within 8 s")), 8000);
    const reason = await dropped.promise.finally(() => clearTimeout(timer));
    assertEquals(reason, "its manifest changed");
    download.abort(new Error("done"));
    await download.done.catch(() => {});
  },
});

Deno.test({
  name: "a block the cache cannot write ends the download with the disk's error, blaming no peer",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const data = new Uint8Array(4 * BLOCK).map((_, i) => (i * 11) & 255);
    const manifest = new BlockHasher(BLOCK).update(data).finish();
    let handlers: ChannelHandlers | undefined;
    const channel = {
      peer: "honest",
      closed: false,
      requestBlocks(_narHash: Uint8Array, indexes: number[]): number {
        for (const index of indexes) {
          const raw = data.subarray(index * BLOCK, (index + 1) * BLOCK);
          queueMicrotask(() =>
            handlers!.block(channel, {
              kind: "block",
              id: 1,
              index,
              encoding: "raw",
              rawLength: raw.length,
              data: raw,
            })
          );
        }
        return 1;
      },
      cancel() {},
      close() {},
    } as unknown as BlockChannel;
    const entry = memoryEntry(manifest.blockCount);
    entry.writeBlock = () => Promise.reject(new Error("No space left on device (os error 28)"));
    const penalised: string[] = [];
    const download = new SwarmDownload({
      entry,
      manifest,
      peerBook: new PeerBook({ banThreshold: 3, banDurationMs: 60_000, maxPeers: 16 }),
      limiter: new FairRateLimiter({ bytesPerSecond: 0 }),
      requestTimeoutMs: 10_000,
      stallTimeoutMs: 10_000,
      emit: (type, payload) => {
        if (type === "peer:penalised") penalised.push((payload as { peer: string }).peer);
      },
      channels: (h) => {
        handlers = h;
        return Promise.resolve([channel]);
      },
    });
    await download.start();
    await assertRejects(() => download.done, Error, "No space left on device");
    assertEquals(penalised, []);
  },
});

Deno.test({
  name:
    "writes behind the network: a block counts once written, the end waits for the disk, and links stop reading while 16 MiB wait",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const MIB = 1024 * 1024;
    const B = MIB / 4;
    const COUNT = 192; // 48 MiB: the link must stop long before the end
    const data = new Uint8Array(COUNT * B).map((_, i) => (i * 7 + (i >> 18)) & 255);
    const manifest = new BlockHasher(B).update(data).finish();
    // A disk that writes only when told to.
    const have = new Set<number>();
    const queued: { index: number; done: () => void }[] = [];
    const writes: number[] = [];
    const entry = {
      has: (i: number) => have.has(i),
      writeBlock: (index: number, bytes: Uint8Array) => {
        assertEquals(bytes, data.subarray(index * B, (index + 1) * B));
        const { promise, resolve } = Promise.withResolvers<void>();
        queued.push({
          index,
          done: () => {
            writes.push(index);
            have.add(index);
            resolve();
          },
        });
        return promise;
      },
      pin: () => () => {},
      persist: () => Promise.resolve(),
      blockCount: manifest.blockCount,
    } as unknown as CacheEntry;
    let handlers: ChannelHandlers | undefined;
    const waiting: { index: number; settled: boolean }[] = [];
    const channel = {
      peer: "fast",
      closed: false,
      requestBlocks(_narHash: Uint8Array, indexes: number[]): number {
        for (const index of indexes) {
          const raw = data.subarray(index * B, (index + 1) * B);
          queueMicrotask(() => {
            const call = { index, settled: false };
            waiting.push(call);
            void Promise.resolve(handlers!.block(channel, {
              kind: "block",
              id: 1,
              index,
              encoding: "raw",
              rawLength: raw.length,
              data: raw,
            })).then(() => (call.settled = true));
          });
        }
        return 1;
      },
      cancel() {},
      close() {},
      manifest: () => Promise.reject(new Error("not used")),
    } as unknown as BlockChannel;
    const download = new SwarmDownload({
      entry,
      manifest,
      peerBook: new PeerBook({ banThreshold: 3, banDurationMs: 60_000, maxPeers: 16 }),
      limiter: new FairRateLimiter({ bytesPerSecond: 0 }),
      requestTimeoutMs: 10_000,
      stallTimeoutMs: 10_000,
      emit: () => {},
      channels: (h) => {
        handlers = h;
        return Promise.resolve([channel]);
      },
    });
    let finished = false;
    download.done.then(() => (finished = true));
    await download.start();
    // Let the link deliver what it was asked for while nothing is written.
    for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 1));
    assertEquals(writes, []);
    assertEquals(download.prefixLength(), 0, "no reader sees a block before it is written");
    assertEquals(queued.length > 64, true, `${queued.length} blocks queued`);
    assertEquals(queued.length < COUNT, true, "past 16 MiB waiting, the link asked for no more");
    const held = waiting.filter((w) => !w.settled).map((w) => w.index);
    assertEquals(held.length > 0, true, "a link waits for the disk");
    assertEquals(finished, false);
    // The disk catches up: the rest is asked for, and the download ends with the last write.
    while (writes.length < manifest.blockCount) {
      const next = queued.shift();
      if (next) next.done();
      await new Promise((r) => setTimeout(r, 1));
      if (writes.length < manifest.blockCount) assertEquals(finished, false);
    }
    await download.done;
    assertEquals(writes.toSorted((a, b) => a - b), [...Array(COUNT).keys()]);
    assertEquals(download.prefixLength(), data.length);
    assertEquals(waiting.every((w) => w.settled), true);
  },
});
