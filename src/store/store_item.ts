/**
 * The one rule for what may be seeded (published to peers): a real store
 * item, `<store>/<32 nix32 chars>-<valid name>` directly under one of the
 * configured store directories, written exactly so — no `.` or `..`, no dot
 * names such as `.links`, no trailing slash, no `//`. Whether the item is a
 * file, directory or symlink is the Deno adapter's check (a symlink item is
 * seeded as the symlink itself, never its target).
 *
 * @example
 * ```ts
 * import { storeItemPath } from "./store_item.ts";
 * storeItemPath(["/gnu/store"], "/gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-2.12").baseName;
 * storeItemPath(["/gnu/store"], "/gnu/store/.."); // throws StorePathError
 * ```
 * @module
 */
import { StorePathError } from "./errors.ts";
import { parseStorePath, type StorePath } from "./store_path.ts";

/**
 * Validates that `path` names an item of one of `storeDirs`.
 * @throws {StorePathError} naming the path and why it is not a store item.
 */
export function storeItemPath(storeDirs: readonly string[], path: string): StorePath {
  const dirs = storeDirs.filter((d) => d !== "");
  let reason = `not under ${dirs.join(" or ")}`;
  for (const dir of dirs) {
    if (!path.startsWith(dir.replace(/\/+$/, "") + "/")) continue;
    try {
      return parseStorePath(path, dir);
    } catch (e) {
      reason = (e as Error).message;
    }
  }
  throw new StorePathError(`${path} is not a store item: ${reason}`);
}
