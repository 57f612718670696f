/**
 * Store paths: `<store>/<32 nix32 chars>-<name>`, with `<name>` drawn from
 * `[A-Za-z0-9+\-._?=]`, not starting with `.` (Guix/Nix `checkStoreName`), and
 * a base name of at most 255 bytes.
 *
 * @example
 * ```ts
 * import { parseStorePath } from "./store_path.ts";
 * const p = parseStorePath("/gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test", "/gnu/store");
 * p.hashPart; // "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw"
 * p.name;     // "hello-test"
 * ```
 * @module
 */
import { isNix32 } from "../encoding/nix32.ts";
import { StorePathError } from "./errors.ts";

/** Default store directory of Guix. */
export const DEFAULT_GUIX_STORE_DIR = "/gnu/store";
/** Default store directory of Nix. */
export const DEFAULT_NIX_STORE_DIR = "/nix/store";
/** Length of the hash part of a store path. */
export const HASH_PART_LENGTH = 32;

const NAME_RE = /^[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]*$/;
const MAX_BASENAME = 255;

/** A parsed, validated store path. */
export interface StorePath {
  /** The store directory, e.g. `/gnu/store` (no trailing slash). */
  readonly storeDir: string;
  /** The 32 nix32 characters. */
  readonly hashPart: string;
  /** The name after the dash. */
  readonly name: string;
  /** `<hashPart>-<name>`. */
  readonly baseName: string;
  /** The full path. */
  readonly path: string;
}

/** True when `name` is a valid store name (the part after `<hash>-`). */
export function isValidStoreName(name: string): boolean {
  return name.length > 0 && NAME_RE.test(name);
}

/**
 * Parses a base name `<hash>-<name>`.
 * @throws {StorePathError} naming the value and the rule it breaks.
 */
export function parseStoreBaseName(baseName: string): { hashPart: string; name: string } {
  if (baseName.length > MAX_BASENAME) {
    throw new StorePathError(
      `store base name longer than ${MAX_BASENAME} characters: "${baseName.slice(0, 60)}..."`,
    );
  }
  const hashPart = baseName.slice(0, HASH_PART_LENGTH);
  if (baseName.length < HASH_PART_LENGTH + 2 || baseName[HASH_PART_LENGTH] !== "-") {
    throw new StorePathError(`not a store base name "<32 nix32 chars>-<name>": "${baseName}"`);
  }
  if (!isNix32(hashPart)) {
    throw new StorePathError(`store path hash part is not nix32: "${baseName}"`);
  }
  const name = baseName.slice(HASH_PART_LENGTH + 1);
  if (!isValidStoreName(name)) {
    throw new StorePathError(
      `invalid store name "${name}" in "${baseName}" (allowed: A-Z a-z 0-9 + - . _ ? =, not starting with ".")`,
    );
  }
  return { hashPart, name };
}

/**
 * Parses and validates a full store path under `storeDir`.
 * @throws {StorePathError} when the path is not directly under `storeDir` or its base name is invalid.
 */
export function parseStorePath(path: string, storeDir: string): StorePath {
  const dir = normalizeStoreDir(storeDir);
  if (!path.startsWith(dir + "/")) {
    throw new StorePathError(`not in the store directory ${dir}: "${path}"`);
  }
  const baseName = path.slice(dir.length + 1);
  if (baseName.includes("/")) {
    throw new StorePathError(`not directly under ${dir} (contains "/"): "${path}"`);
  }
  const { hashPart, name } = parseStoreBaseName(baseName);
  return { storeDir: dir, hashPart, name, baseName, path };
}

/** True when `path` is a valid store path under `storeDir`. */
export function isStorePath(path: string, storeDir: string): boolean {
  try {
    parseStorePath(path, storeDir);
    return true;
  } catch {
    return false;
  }
}

/** Strips trailing slashes; rejects relative or empty store directories. */
export function normalizeStoreDir(storeDir: string): string {
  const dir = storeDir.replace(/\/+$/, "");
  if (!dir.startsWith("/")) {
    throw new StorePathError(`store directory must be an absolute path: "${storeDir}"`);
  }
  return dir;
}

/**
 * The store directory from an environment, as Guix resolves it:
 * `NIX_STORE_DIR`, else `NIX_STORE`, else `/gnu/store`.
 */
export function storeDirFromEnv(env: { get(name: string): string | undefined }): string {
  return normalizeStoreDir(
    env.get("NIX_STORE_DIR") || env.get("NIX_STORE") || DEFAULT_GUIX_STORE_DIR,
  );
}
