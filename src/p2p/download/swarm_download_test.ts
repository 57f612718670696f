import { assertEquals, assertRejects } from "@std/assert";
import type { CacheEntry } from "../store/deno_block_cache.ts";
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
