/**
 * A {@linkcode CacheStore} in a directory: one small file per entry, written
 * to a temporary name and renamed (atomic, so concurrent readers and a crash
 * never see half a file). The directory is private to the daemon user:
 * directories 0700 and files 0600 (an existing directory tree owned by us is
 * tightened on first use), so other local users cannot see which store paths
 * were looked up.
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
  let tightened: Promise<void> | undefined;
  const ready = () => tightened ??= tighten(dir);
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
      await ready();
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
      await ready();
      const path = `${dir}/${key}`;
      const parent = path.slice(0, path.lastIndexOf("/"));
      const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
      if (!made.has(parent)) {
        await Deno.mkdir(parent, { recursive: true, mode: 0o700 });
        made.add(parent);
      }
      try {
        await Deno.writeTextFile(tmp, value, { mode: 0o600 });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        // The directory was removed behind our back: make it again.
        await Deno.mkdir(parent, { recursive: true, mode: 0o700 });
        await Deno.writeTextFile(tmp, value, { mode: 0o600 });
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

/**
 * Creates `dir` (0700) or, when it exists and belongs to us, sets it and its
 * subdirectories to 0700 (a cache made by an older version was 0755/0644;
 * its files become unreachable to others through their 0700 directories).
 */
async function tighten(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const own = async (path: string) => {
      const st = await Deno.lstat(path);
      if (st.isDirectory && st.uid === Deno.uid() && (st.mode! & 0o077) !== 0) {
        await Deno.chmod(path, 0o700);
      }
    };
    await own(dir);
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await own(`${dir}/${e.name}`);
    }
  } catch {
    // An unusable cache directory is only a slower cache (writes fail later).
  }
}
