import { assert, assertEquals } from "@std/assert";
import { hexEncode } from "../../encoding/hex.ts";
import { Prefetcher, type PrefetcherInit, type PrefetchItem } from "./prefetch.ts";
import type { Provider } from "./availability.ts";

const MiB = 1 << 20;

function item(n: number, narSize: number, refs: number[] = []): PrefetchItem {
  const narHash = new Uint8Array(32).fill(n);
  return {
    storePath: `/gnu/store/${String(n).padStart(32, "0")}-item-${n}`,
    narHash,
    narSize,
    references: refs.map((r) => `${String(r).padStart(32, "0")}-item-${r}`),
  };
}

/** A prefetcher whose peers have everything; fetches finish when the test says so. */
function harness(windowBytes: number) {
  const started: number[] = [];
  const pending: { n: number; bytes: number; done: () => void }[] = [];
  let outstanding = 0;
  let peak = 0;
  const provider = { peer: "p", state: "complete" } as unknown as Provider;
  const run = (it: PrefetchItem) => {
    const n = it.narHash[0]!;
    started.push(n);
    outstanding += Math.min(it.narSize, it.narSize > 4 * MiB ? windowBytes / 2 : it.narSize);
    peak = Math.max(peak, outstanding);
    return new Promise<boolean>((resolve) =>
      pending.push({
        n,
        bytes: it.narSize,
        done: () => {
          outstanding -= Math.min(it.narSize, it.narSize > 4 * MiB ? windowBytes / 2 : it.narSize);
          resolve(true);
        },
      })
    );
  };
  const init = {
    availability: {
      query: (items: PrefetchItem[]) =>
        Promise.resolve(new Map(items.map((it) => [hexEncode(it.narHash), [provider]]))),
    },
    whole: { fetch: (it: PrefetchItem) => run(it) },
    cache: { get: () => undefined },
    maxBytes: 1024 * MiB,
    minProviders: 1,
    dht: false,
    prepare: (it: PrefetchItem) => run(it),
    windowBytes,
  } as unknown as PrefetcherInit;
  const finishOne = async () => {
    // Let the prefetcher issue what its window allows, then finish the oldest fetch.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    pending.shift()?.done();
  };
  return { prefetcher: new Prefetcher(init), started, pending, finishOne, peak: () => peak };
}

Deno.test("items are fetched ahead in dependency order, within the window", async () => {
  const h = harness(4 * MiB);
  // 3 refers to 1 and 2; 2 refers to 1; 4 and 5 refer to nothing; 6 (large) refers to 3.
  const items = [
    item(6, 20 * MiB, [3]),
    item(3, 1 * MiB, [1, 2]),
    item(2, 2 * MiB, [1]),
    item(1, 3 * MiB),
    item(4, 1 * MiB),
    item(5, 512 << 10),
  ];
  const run = h.prefetcher.run(items);
  while (h.started.length < items.length || h.pending.length > 0) await h.finishOne();
  await run;
  assertEquals(h.started, [5, 4, 1, 2, 3, 6]);
  assert(h.peak() <= 4 * MiB, `at most the window outstanding (peak ${h.peak() / MiB} MiB)`);
});

Deno.test("a batch without references goes smallest first", async () => {
  const h = harness(64 * MiB);
  const run = h.prefetcher.run([item(1, 300), item(2, 100), item(3, 200)]);
  while (h.started.length < 3 || h.pending.length > 0) await h.finishOne();
  await run;
  assertEquals(h.started, [2, 3, 1]);
});
