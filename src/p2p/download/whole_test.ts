import { assertEquals, assertRejects } from "@std/assert";
import { sha256 } from "../../hash/sha256.ts";
import { PeerBook } from "../peer_book.ts";
import { FairRateLimiter } from "../rate/mod.ts";
import type { BlockCache, CacheEntry } from "../store/deno_block_cache.ts";
import type { Availability, Provider } from "./availability.ts";
import type { PeerLinks } from "./links.ts";
import type { NarReply } from "./peer_link.ts";
import { WholeFetcher, WholeFetchError } from "./whole.ts";

const nar = new Uint8Array(3000).map((_, i) => (i * 5) & 255);
const narHash = sha256(nar);

/** A cache that keeps nothing but hands out writable entries. */
function memoryCache(): BlockCache {
  return {
    get: () => undefined,
    open: (layout: { narSize: number; blockSize: number }) => {
      const entry = {
        verified: false,
        complete: false,
        has: () => false,
        range: (i: number) => ({
          offset: i * layout.blockSize,
          length: Math.min(layout.blockSize, layout.narSize - i * layout.blockSize),
        }),
        writeBlocks: () => Promise.resolve(),
        markVerified: () => {
          entry.verified = true;
          entry.complete = true;
          return Promise.resolve();
        },
      };
      return Promise.resolve(entry as unknown as CacheEntry);
    },
  } as unknown as BlockCache;
}

function provider(peer: string): Provider {
  return {
    peer,
    peerId: { toString: () => peer } as Provider["peerId"],
    state: "complete",
    via: "connected",
  };
}

/** Links whose peers answer through `answer` (never, when it returns undefined). */
function links(
  asked: string[],
  answer: (peer: string) => Promise<NarReply> | undefined,
): PeerLinks {
  return {
    get: (peerId: Provider["peerId"]) =>
      Promise.resolve({
        nars(_hashes: Uint8Array[], onReply: (i: number, reply: NarReply) => void) {
          const peer = peerId.toString();
          asked.push(peer);
          const reply = answer(peer);
          if (!reply) return new Promise<void>(() => {}); // silent, within its stall time
          return reply.then((r) => onReply(0, r));
        },
      }),
  } as unknown as PeerLinks;
}

function fetcher(init: { links: PeerLinks; forgotten: string[]; budgetMs: number }): WholeFetcher {
  return new WholeFetcher({
    links: init.links,
    availability: {
      forget: (_hex: string, peer: string) => init.forgotten.push(peer),
    } as unknown as Availability,
    cache: memoryCache(),
    peerBook: new PeerBook({ banThreshold: 3, banDurationMs: 60_000, maxPeers: 16 }),
    limiter: new FairRateLimiter({ bytesPerSecond: 0 }),
    blockSize: 16384,
    budgetMs: init.budgetMs,
    emit: () => {},
  });
}

Deno.test({
  name: "whole NAR: a provider that never answers costs one time budget, then the fetch gives up",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const asked: string[] = [];
    const forgotten: string[] = [];
    const whole = fetcher({ links: links(asked, () => undefined), forgotten, budgetMs: 300 });
    const started = Date.now();
    await assertRejects(
      () => whole.fetch({ narHash, narSize: nar.length }, [provider("slow"), provider("other")]),
      WholeFetchError,
      "within 0.3 s",
    );
    const took = Date.now() - started;
    assertEquals(took < 5000, true, `gave up after ${took} ms`);
    // The silent peer is forgotten for this NAR; the caller falls back instead of
    // spending another budget on the next provider.
    assertEquals(asked, ["slow"]);
    assertEquals(forgotten, ["slow"]);
  },
});

Deno.test({
  name: "whole NAR: a caller that stops waiting does not stop the fetch others share",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const asked: string[] = [];
    const reply = Promise.withResolvers<NarReply>();
    const whole = fetcher({
      links: links(asked, () => reply.promise),
      forgotten: [],
      budgetMs: 10_000,
    });
    const target = { narHash, narSize: nar.length };
    const impatient = new AbortController();
    const first = whole.fetch(target, [provider("seeder")], impatient.signal);
    const second = whole.fetch(target, [provider("seeder")]);
    impatient.abort(new Error("the client went away"));
    await assertRejects(() => first, Error, "the client went away");
    reply.resolve({
      kind: "nar",
      message: { kind: "nar", id: 1, narHash, encoding: "raw", rawLength: nar.length, data: nar },
    });
    const entry = await second;
    assertEquals(entry.verified, true);
    assertEquals(asked, ["seeder"]);
  },
});
