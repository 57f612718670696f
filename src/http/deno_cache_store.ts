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

/** Stores entries under `dir/<key>`. */
export function directoryCacheStore(dir: string): CacheStore {
  const made = new Set<string>(); // parent directories known to exist
  return {
    async read(key) {
      try {
        return await Deno.readTextFile(`${dir}/${key}`);
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
    },
  };
}
