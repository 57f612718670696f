/**
 * A {@linkcode CacheStore} in a directory: one small file per entry, written
 * to a temporary name and renamed (atomic, so concurrent readers and a crash
 * never see half a file).
 *
 * @example
 * ```ts
 * import { directoryCacheStore } from "./deno_cache_store.ts";
 * const store = directoryCacheStore("/var/cache/guix-p2p/narinfo");
 * ```
 * @module
 */
import type { CacheStore } from "./narinfo_cache.ts";

/**
 * Stores entries under `dir/<key>`. Each key directory is listed once, on its
 * first read: keys it does not hold are misses without a file system call (a
 * cold `have` of 1000 paths otherwise opened 1000 missing files). Files
 * another process adds later are not seen, which only costs a refetch.
 */
export function directoryCacheStore(dir: string): CacheStore {
  const made = new Set<string>(); // parent directories known to exist
  const listings = new Map<string, Promise<Set<string>>>(); // directory → names in it
  const listing = (parent: string) => {
    let names = listings.get(parent);
    if (!names) {
      names = (async () => {
        const found = new Set<string>();
        try {
          for await (const e of Deno.readDir(parent)) found.add(e.name);
        } catch {
          // no directory yet: nothing cached
        }
        return found;
      })();
      listings.set(parent, names);
    }
    return names;
  };
  return {
    async read(key) {
      const path = `${dir}/${key}`;
      const slash = path.lastIndexOf("/");
      if (!(await listing(path.slice(0, slash))).has(path.slice(slash + 1))) return undefined;
      try {
        return await Deno.readTextFile(path);
      } catch {
        return undefined;
      }
    },
    async write(key, value) {
      const path = `${dir}/${key}`;
      const parent = path.slice(0, path.lastIndexOf("/"));
      const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
      if (!made.has(parent)) {
        await Deno.mkdir(parent, { recursive: true, mode: 0o755 });
        made.add(parent);
      }
      try {
        await Deno.writeTextFile(tmp, value, { mode: 0o644 });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        // The directory was removed behind our back: make it again.
        await Deno.mkdir(parent, { recursive: true, mode: 0o755 });
        await Deno.writeTextFile(tmp, value, { mode: 0o644 });
      }
      try {
        await Deno.rename(tmp, path);
      } catch (e) {
        await Deno.remove(tmp).catch(() => {});
        throw e;
      }
      (await listing(parent)).add(path.slice(parent.length + 1));
    },
  };
}
