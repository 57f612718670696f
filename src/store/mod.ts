/**
 * Store paths (`/gnu/store/<hash>-<name>`, `/nix/store/...`): parsing and
 * validation. Pure.
 *
 * @example
 * ```ts
 * import { parseStorePath } from "./mod.ts";
 * parseStorePath("/gnu/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5pr-hello-2.12", "/gnu/store").name;
 * ```
 * @module
 */
export { StorePathError } from "./errors.ts";
export {
  DEFAULT_GUIX_STORE_DIR,
  DEFAULT_NIX_STORE_DIR,
  HASH_PART_LENGTH,
  isStorePath,
  isValidStoreName,
  normalizeStoreDir,
  parseStoreBaseName,
  parseStorePath,
  storeDirFromEnv,
  type StorePath,
} from "./store_path.ts";
export { storeItemPath } from "./store_item.ts";
