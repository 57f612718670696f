import { assertEquals } from "@std/assert";
import { nix32Encode } from "../encoding/nix32.ts";
import { sha256 } from "../hash/sha256.ts";
import { directoryCacheStore } from "./deno_cache_store.ts";
import { type CacheEntry, cacheKey, type CacheStore, NarinfoCache } from "./narinfo_cache.ts";

const URL_A = "https://ci.example";
const URL_B = "https://other.example";
const found = (text: string, fetchedAt = 1000, ttl = 3600): CacheEntry => ({
  kind: "found",
  text,
  fetchedAt,
  ttl,
});

/** A store whose writes complete only when the test releases them. */
function gatedStore() {
  const data = new Map<string, string>();
  const gates: { key: string; value: string; release: () => void }[] = [];
  const waiters: (() => void)[] = [];
  const store: CacheStore = {
    read: (key) => Promise.resolve(data.get(key)),
    write: (key, value) =>
      new Promise<void>((resolve) => {
        gates.push({
          key,
          value,
          release: () => {
            data.set(key, value);
            resolve();
          },
        });
        waiters.splice(0).forEach((w) => w());
      }),
  };
  const nextWrite = async () => {
    while (gates.length === 0) await new Promise<void>((r) => waiters.push(r));
    return gates.shift()!;
  };
  return { store, data, nextWrite, gates };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("put returns before the store write completes; flush waits for it", async () => {
  const { store, data, nextWrite } = gatedStore();
  const cache = new NarinfoCache(store, { now: () => 2000 });
  await within(cache.put(URL_A, "aaaa", found("A")), 2000, "put resolving");
  assertEquals(await cache.get(URL_A, "aaaa"), found("A"));
  assertEquals(data.size, 0, "nothing stored yet");
  let flushed = false;
  const flushing = cache.flush().then(() => flushed = true);
  const write = await within(nextWrite(), 2000, "the background write");
  assertEquals(write.key, cacheKey(URL_A, "aaaa"));
  assertEquals(flushed, false);
  write.release();
  await within(flushing, 2000, "flush");
  assertEquals(JSON.parse(data.get(cacheKey(URL_A, "aaaa"))!).text, "A");
});

Deno.test("entries written behind survive a restart over the same directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = new NarinfoCache(directoryCacheStore(`${dir}/narinfo`), { now: () => 2000 });
    for (let i = 0; i < 50; i++) await first.put(URL_A, `h${i}`, found(`text ${i}`));
    await first.put(URL_A, "gone", { kind: "missing", fetchedAt: 1000, ttl: 3600 });
    await first.put(URL_A, "err", { kind: "error", message: "HTTP 500", fetchedAt: 1000, ttl: 60 });
    await first.flush();
    assertEquals(first.pendingWrites, 0);
    const second = new NarinfoCache(directoryCacheStore(`${dir}/narinfo`), { now: () => 2000 });
    for (let i = 0; i < 50; i++) assertEquals(await second.get(URL_A, `h${i}`), found(`text ${i}`));
    assertEquals((await first.get(URL_A, "gone"))?.kind, "missing");
    assertEquals(await second.get(URL_A, "gone"), undefined, "missing entries stay in memory");
    assertEquals(await second.get(URL_A, "err"), undefined, "error entries stay in memory");
    // Nothing half-written is left behind.
    const names: string[] = [];
    for await (const e of Deno.readDir(`${dir}/narinfo/${cacheKey(URL_A, "x").split("/")[0]}`)) {
      names.push(e.name);
    }
    assertEquals(names.filter((n) => n.endsWith(".tmp")), []);
    assertEquals(names.length, 50);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the newest value of a key is the one stored, even if put during its write", async () => {
  const { store, data, nextWrite } = gatedStore();
  const cache = new NarinfoCache(store, { now: () => 2000, writeConcurrency: 4 });
  await cache.put(URL_A, "k", found("old"));
  const firstWrite = await within(nextWrite(), 2000, "first write");
  await cache.put(URL_A, "k", found("new"));
  // The new value waits for the old write instead of racing it.
  firstWrite.release();
  const second = await within(nextWrite(), 2000, "second write");
  assertEquals(JSON.parse(second.value).text, "new");
  second.release();
  await within(cache.flush(), 2000, "flush");
  assertEquals(JSON.parse(data.get(cacheKey(URL_A, "k"))!).text, "new");
  assertEquals((await cache.get(URL_A, "k"))?.kind === "found", true);
});

Deno.test("pending entries are served after falling out of memory; TTLs apply", async () => {
  const { store, nextWrite } = gatedStore();
  let now = 2000;
  const cache = new NarinfoCache(store, {
    now: () => now,
    maxMemoryEntries: 1,
    writeConcurrency: 1,
  });
  await cache.put(URL_A, "one", found("1", 1000, 3600));
  await cache.put(URL_A, "two", found("2", 1000, 3600));
  // "one" left memory and its write has not completed: it still answers.
  assertEquals(await cache.get(URL_A, "one"), found("1", 1000, 3600));
  now = 1000 + 3600;
  assertEquals(await cache.get(URL_A, "two"), undefined, "expired");
  assertEquals((await cache.getStale(URL_A, "two"))?.kind, "found");
  (await within(nextWrite(), 2000, "write")).release();
  (await within(nextWrite(), 2000, "write")).release();
  await within(cache.flush(), 2000, "flush");
});

Deno.test("a store that cannot be written only makes a slower cache", async () => {
  const failing: CacheStore = {
    read: () => Promise.resolve(undefined),
    write: (key) => Promise.reject(new Error(`disk full writing ${key}`)),
  };
  const cache = new NarinfoCache(failing, { now: () => 2000 });
  await cache.put(URL_A, "x", found("X"));
  await within(cache.flush(), 2000, "flush");
  assertEquals(await cache.get(URL_A, "x"), found("X"));
});

Deno.test("the directory store recreates a directory removed behind its back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = directoryCacheStore(`${dir}/c`);
    await store.write("ab/one", "1");
    await Deno.remove(`${dir}/c`, { recursive: true });
    await store.write("ab/two", "2");
    assertEquals(await store.read("ab/two"), "2");
    assertEquals(await store.read("ab/one"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("peek answers from memory and unwritten entries only, and honours TTLs", async () => {
  const { store, data, nextWrite } = gatedStore();
  let now = 2000;
  data.set(cacheKey(URL_A, "ondisk"), JSON.stringify({ v: 1, ...found("D") }));
  const cache = new NarinfoCache(store, { now: () => now, maxMemoryEntries: 1 });
  assertEquals(cache.peek(URL_A, "ondisk"), undefined, "the store is not read");
  assertEquals(await cache.get(URL_A, "ondisk"), found("D"));
  assertEquals(cache.peek(URL_A, "ondisk"), found("D"), "now in memory");
  await cache.put(URL_A, "new", found("N")); // evicts "ondisk" from memory; write in flight
  assertEquals(cache.peek(URL_A, "new"), found("N"));
  assertEquals(cache.peek(URL_A, "ondisk"), undefined);
  now = 1000 + 3600;
  assertEquals(cache.peek(URL_A, "new"), undefined, "expired");
  (await within(nextWrite(), 2000, "write")).release();
  await within(cache.flush(), 2000, "flush");
});

Deno.test("cache keys: 32 nix32 characters of the URL's SHA-256, then the hash part", () => {
  const key = cacheKey("https://ci.guix.gnu.org", "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw");
  assertEquals(key, cacheKey("https://ci.guix.gnu.org", "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw"));
  const [prefix, hash] = key.split("/");
  assertEquals(prefix, nix32Encode(sha256("https://ci.guix.gnu.org")).slice(0, 32));
  assertEquals(hash, "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw");
  assertEquals(cacheKey("https://bordeaux.guix.gnu.org", "x").split("/")[0] === prefix, false);
});

Deno.test("an entry put while the last writer is finishing is still written", async () => {
  // Put a second entry 0..12 microtask turns after the first write completes: one of
  // these lands between a writer finding nothing to do and its bookkeeping.
  for (let turns = 0; turns <= 12; turns++) {
    const { store, data, nextWrite } = gatedStore();
    const cache = new NarinfoCache(store, { now: () => 2000, writeConcurrency: 1 });
    await cache.put(URL_A, "first", found("1"));
    (await within(nextWrite(), 2000, "first write")).release();
    for (let i = 0; i < turns; i++) await Promise.resolve();
    await cache.put(URL_A, "second", found("2"));
    const flushed = cache.flush();
    (await within(nextWrite(), 2000, `second write (put ${turns} turns later)`)).release();
    await within(flushed, 2000, "flush");
    assertEquals(data.has(cacheKey(URL_A, "second")), true, `put ${turns} turns later`);
    assertEquals(cache.pendingWrites, 0);
  }
});

Deno.test("the directory store lists a directory once and answers misses from the listing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await directoryCacheStore(`${dir}/c`).write("ab/old", "o");
    const store = directoryCacheStore(`${dir}/c`);
    assertEquals(await store.read("ab/old"), "o", "files from before are found");
    assertEquals(await store.read("ab/none"), undefined);
    // Written by someone else after the listing: not seen (a refetch, never a wrong answer).
    await directoryCacheStore(`${dir}/c`).write("ab/later", "l");
    assertEquals(await store.read("ab/later"), undefined);
    // Written through this store: seen.
    await store.write("ab/mine", "m");
    assertEquals(await store.read("ab/mine"), "m");
    assertEquals(await store.read("cd/x"), undefined, "a directory that does not exist");
    await store.write("cd/x", "x");
    assertEquals(await store.read("cd/x"), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("missing entries are never written and are capped in memory (least recently used out)", async () => {
  const { store, data } = gatedStore();
  const cache = new NarinfoCache(store, { now: () => 2000, maxNegativeEntries: 100 });
  for (let i = 0; i < 600; i++) {
    await cache.put(URL_A, `m${i}`, { kind: "missing", fetchedAt: 1000, ttl: 3600 });
    if (i % 50 === 0) await cache.get(URL_A, "m0"); // recently used: kept
  }
  await cache.flush();
  assertEquals(data.size, 0);
  assertEquals(cache.pendingWrites, 0);
  assertEquals((await cache.get(URL_A, "m0"))?.kind, "missing");
  assertEquals(await cache.get(URL_A, "m1"), undefined);
  assertEquals((await cache.get(URL_A, "m599"))?.kind, "missing");
  let kept = 0;
  for (let i = 0; i < 600; i++) if (cache.peek(URL_A, `m${i}`)) kept++;
  assertEquals(kept, 100);
  // A later positive answer replaces the negative one.
  await cache.put(URL_A, "m599", found("now here"));
  assertEquals(await cache.get(URL_A, "m599"), found("now here"));
});

Deno.test("the cache directory is private: 0700 directories, 0600 files; existing ones tightened", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sub = `${dir}/narinfo/${cacheKey(URL_A, "x").split("/")[0]}`;
    await Deno.mkdir(sub, { recursive: true, mode: 0o755 });
    await Deno.chmod(`${dir}/narinfo`, 0o755);
    await Deno.chmod(sub, 0o755);
    const cache = new NarinfoCache(directoryCacheStore(`${dir}/narinfo`), { now: () => 2000 });
    await cache.put(URL_A, "aaaa", found("A"));
    await cache.put(URL_B, "bbbb", found("B"));
    await cache.flush();
    const mode = async (p: string) => (await Deno.stat(p)).mode! & 0o777;
    assertEquals(await mode(`${dir}/narinfo`), 0o700);
    assertEquals(await mode(sub), 0o700);
    assertEquals(await mode(`${dir}/narinfo/${cacheKey(URL_A, "aaaa")}`), 0o600);
    const otherSub = `${dir}/narinfo/${cacheKey(URL_B, "x").split("/")[0]}`;
    assertEquals(await mode(otherSub), 0o700);
    assertEquals(await mode(`${dir}/narinfo/${cacheKey(URL_B, "bbbb")}`), 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
