import { assertEquals } from "@std/assert";
import { type CacheStore, NarinfoCache } from "./narinfo_cache.ts";
import type { PeerNarinfoQuery } from "./peer_narinfos.ts";
import { NarinfoResolver } from "./resolver.ts";

const HASH = "0a0b0c0d0f0g0h0i0j0k0l0m0n0p0q0r";
const SETTINGS = {
  narinfoTtl: 3600,
  negativeTtl: 60,
  errorTtl: 10,
  connectTimeout: 1,
  stallTimeout: 1,
  parallelism: 4,
};

function memoryStore(): CacheStore {
  const data = new Map<string, string>();
  return {
    read: (key) => Promise.resolve(data.get(key)),
    write: (key, value) => Promise.resolve(void data.set(key, value)),
  };
}

Deno.test("a peer's narinfo of another store directory is refused as foreign (no fault), a wrong one is not", async () => {
  const verdicts: { ok: boolean; foreign?: boolean | undefined }[] = [];
  const answers = [
    `StorePath: /elsewhere/store/${HASH}-hello\nNarHash: x\n`,
    `StorePath: /gnu/store/${HASH}-hello\nNarHash: x\n`,
  ];
  const resolver = new NarinfoResolver({
    cache: new NarinfoCache(memoryStore()),
    // Refuses everything, as a narinfo of another store or with a bad signature would be.
    check: () => ({ ok: false, reason: "refused" }),
    settings: SETTINGS,
    peers: {
      mode: "fallback",
      flavour: "guix",
      keys: () => [new Uint8Array(32)],
      source: {
        lookup: (query: PeerNarinfoQuery) => {
          for (const text of answers) {
            const v = query.judge(HASH, text);
            verdicts.push(v.ok ? { ok: true } : { ok: false, foreign: v.foreign });
          }
          return Promise.resolve(new Map());
        },
      },
    },
  });
  const r = await resolver.resolve([`/gnu/store/${HASH}-hello`], [], { storeDir: "/gnu/store" });
  assertEquals(r.get(`/gnu/store/${HASH}-hello`)?.kind, "missing");
  assertEquals(verdicts.slice(0, 2), [{ ok: false, foreign: true }, { ok: false, foreign: false }]);
});
