/**
 * What a store holds and what an item refers to, for seeding whole profiles,
 * closures and stores (`guix-p2p seed --profile|--closure|--store`,
 * `seed_profiles`). The rules (docs/sharing.md, "What is seeded"):
 *
 * - **valid items** of a Guix or Nix store are what its daemon lists as live
 *   (`guix gc --list-live`, `nix-store --gc --print-live`: reachable from a
 *   GC root, the ones a garbage collection keeps); of a plain directory
 *   (a test store, a store without its daemon), every entry shaped like a
 *   store item (`<32 nix32 characters>-<name>`);
 * - **references** of an item come from the store's database
 *   (`guix gc --requisites`, `nix-store --query --requisites`); in a plain
 *   directory, they are the store paths written in the item's files and
 *   symlink targets — the scan Guix and Nix themselves run when they
 *   register an item — restricted to entries that exist (a profile's
 *   `manifest` and its symlinks name everything it holds);
 * - derivations (`*.drv`) and lock files are never seeded: nobody
 *   substitutes them.
 *
 * Pure: the helpers below take names and text; `deno_catalog.ts` lists
 * directories and runs the store's commands.
 *
 * @example
 * ```ts
 * import { isSeedableName, storeRefs } from "./catalog.ts";
 * isSeedableName("1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-2.12"); // true
 * isSeedableName("1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-2.12.drv"); // false
 * storeRefs("ln -s /gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello/bin", "/gnu/store");
 * // Set { "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw" }
 * ```
 * @module
 */
import { isValidStoreName } from "../../store/store_path.ts";

/** What a store knows about its items. */
export interface StoreCatalog {
  /** How items and references are found (for messages and docs). */
  readonly rule: string;
  /** Every valid item of the store (full paths). */
  valid(options?: { signal?: AbortSignal }): Promise<string[]>;
  /** The closure of `items`: the items and everything they refer to, transitively. */
  closure(items: readonly string[], options?: { signal?: AbortSignal }): Promise<string[]>;
}

const NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";
const HASH_RE = new RegExp(`^[${NIX32}]{32}-`);

/** True for a store entry worth seeding: `<hash>-<name>`, not a derivation or a lock file. */
export function isSeedableName(baseName: string): boolean {
  if (!HASH_RE.test(baseName) || baseName.length > 255) return false;
  const name = baseName.slice(33);
  if (!isValidStoreName(name)) return false;
  return !name.endsWith(".drv") && !name.endsWith(".lock") && !name.endsWith(".chroot");
}

/** True when `path` is an item directly under `storeDir` (not a file inside one). */
export function isItemOf(path: string, storeDir: string): boolean {
  if (!path.startsWith(storeDir + "/")) return false;
  const base = path.slice(storeDir.length + 1);
  return base !== "" && !base.includes("/");
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The hash parts of the `<storeDir>/<hash>-…` paths written in `text`. */
export function storeRefs(text: string, storeDir: string): Set<string> {
  const re = new RegExp(`${escapeRe(storeDir)}/([${NIX32}]{32})-`, "g");
  const out = new Set<string>();
  for (const m of text.matchAll(re)) out.add(m[1]!);
  return out;
}

/** Bytes to keep from the end of one chunk so a path split across chunks is still found. */
export function refOverlap(storeDir: string): number {
  return storeDir.length + 1 + 33;
}

/**
 * One line per item, as `guix gc`/`nix-store` print them; keeps the seedable
 * items of `storeDir` (others — other stores, `.drv`, junk — are dropped).
 */
export function parseItemList(output: string, storeDir: string): string[] {
  const out = new Set<string>();
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (isItemOf(line, storeDir) && isSeedableName(line.slice(storeDir.length + 1))) out.add(line);
  }
  return [...out];
}

/**
 * The store item holding `real` (a path with its symlinks resolved, e.g. a
 * profile's current generation or a file inside an item); `profile` names
 * the path in errors.
 */
export function profileItem(real: string, storeDirs: readonly string[], profile: string): string {
  for (const dir of storeDirs) {
    if (real.startsWith(dir + "/")) {
      const base = real.slice(dir.length + 1).split("/")[0]!;
      if (isSeedableName(base)) return `${dir}/${base}`;
    }
  }
  throw new Error(`${profile} leads to ${real}, which is not an item of ${storeDirs.join(" or ")}`);
}
