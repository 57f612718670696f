/**
 * Removing a half-restored tree: directories are made writable first (a 0555
 * directory cannot be emptied by non-root), symlinks are never followed.
 *
 * @example
 * ```ts
 * import { removeTree } from "./remove_tree.ts";
 * removeTree("/tmp/half-restored");
 * ```
 * @module
 */

/** Mode of a directory while its entries are being created (or removed). */
export const BUILDING_MODE = 0o700;

/**
 * Removes `path` recursively without following symlinks, first making its
 * directories writable (0555 directories cannot be emptied by non-root).
 *
 * @example
 * ```ts
 * import { removeTree } from "./remove_tree.ts";
 * removeTree("/tmp/half-restored");
 * ```
 */
export function removeTree(path: string): void {
  let st: Deno.FileInfo;
  try {
    st = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (st.isDirectory) makeWritable(path);
  Deno.removeSync(path, { recursive: true });
}

function makeWritable(dir: string): void {
  Deno.chmodSync(dir, BUILDING_MODE);
  for (const entry of Deno.readDirSync(dir)) {
    // readDir's isDirectory comes from d_type / lstat: a symlink is never a directory here.
    if (entry.isDirectory && !entry.isSymlink) makeWritable(`${dir}/${entry.name}`);
  }
}
