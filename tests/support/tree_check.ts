/**
 * Checks a restored store item the way a user would: same NAR hash as the
 * source, Guix's canonical permissions (files 0444/0555, directories 0555)
 * and mtime 1 on every entry, symlinks included.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { formatNarHash } from "../../src/hash/nar_hash.ts";
import { hashPath } from "../../src/fs/mod.ts";

/** Asserts that `path` is a canonical restore of NAR hash `narHash`. */
export async function assertRestored(path: string, narHash: string): Promise<void> {
  const { digest } = await hashPath(path);
  assertEquals(formatNarHash(digest), narHash, `NAR hash of ${path}`);
  const walk = async (p: string): Promise<void> => {
    const st = await Deno.lstat(p);
    assertEquals(st.mtime?.getTime(), 1000, `mtime of ${p}`);
    if (st.isSymlink) return;
    const mode = st.mode! & 0o7777;
    if (st.isDirectory) {
      assertEquals(mode, 0o555, `mode of directory ${p}`);
      for await (const e of Deno.readDir(p)) await walk(`${p}/${e.name}`);
    } else {
      assertEquals(mode === 0o444 || mode === 0o555, true, `mode ${mode.toString(8)} of ${p}`);
    }
  };
  await walk(path);
}

/** Makes `path` and everything under it writable so a test can delete it. */
export async function forceRemove(path: string): Promise<void> {
  const chmodAll = async (p: string): Promise<void> => {
    let st;
    try {
      st = await Deno.lstat(p);
    } catch {
      return;
    }
    if (st.isDirectory) {
      await Deno.chmod(p, 0o755);
      for await (const e of Deno.readDir(p)) await chmodAll(`${p}/${e.name}`);
    }
  };
  await chmodAll(path);
  await Deno.remove(path, { recursive: true }).catch(() => {});
}
