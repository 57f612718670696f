/**
 * Reading key and ACL files from disk: the one place of the trust layer that
 * touches the file system. Errors name the file.
 *
 * @example
 * ```ts
 * import { defaultAclPath, loadAcl } from "./deno_files.ts";
 * const acl = await loadAcl(defaultAclPath(Deno.env));
 * console.log(acl.entries.length);
 * ```
 * @module
 */
import { type Acl, parseAcl, type ParseAclOptions } from "./acl.ts";
import { TrustFileError } from "./errors.ts";
import {
  type GuixPrivateKey,
  type GuixPublicKey,
  parseGuixPrivateKey,
  parseGuixPublicKey,
} from "./guix_key.ts";
import { type NixSecretKey, parseNixSecretKey } from "./nix_key.ts";

/** How trust files are read (replaceable in tests). */
export interface TrustFiles {
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
}

/** {@linkcode TrustFiles} over `Deno.readFile`. */
export const denoTrustFiles: TrustFiles = {
  readFile: (path) => Deno.readFile(path),
};

/**
 * Guix's ACL location: `$GUIX_CONFIGURATION_DIRECTORY/acl`, else `/etc/guix/acl`.
 *
 * @example
 * ```ts
 * import { defaultAclPath } from "./deno_files.ts";
 * defaultAclPath({ get: () => undefined }); // "/etc/guix/acl"
 * ```
 */
export function defaultAclPath(env: { get(name: string): string | undefined }): string {
  const dir = env.get("GUIX_CONFIGURATION_DIRECTORY") || "/etc/guix";
  return `${dir.replace(/\/+$/, "")}/acl`;
}

async function load<T>(
  path: string,
  files: TrustFiles,
  parse: (bytes: Uint8Array) => T,
): Promise<T> {
  let bytes: Uint8Array;
  try {
    bytes = await files.readFile(path);
  } catch (e) {
    throw new TrustFileError(path, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  try {
    return parse(bytes);
  } catch (e) {
    throw new TrustFileError(path, (e as Error).message, { cause: e });
  }
}

/**
 * Reads and parses an ACL file. Keys get their window tables (about 15 ms each)
 * unless `options.precompute` is false, which suits one-off checks.
 *
 * @example
 * ```ts
 * import { loadAcl } from "./deno_files.ts";
 * await loadAcl("/etc/guix/acl");
 * ```
 * @throws {TrustFileError} naming the file and the problem.
 */
export function loadAcl(
  path: string,
  files: TrustFiles = denoTrustFiles,
  options: ParseAclOptions = {},
): Promise<Acl> {
  return load(path, files, (b) => parseAcl(b, options));
}

/**
 * Reads a Guix `signing-key.pub`.
 *
 * @example
 * ```ts
 * import { loadGuixPublicKey } from "./deno_files.ts";
 * await loadGuixPublicKey("/etc/guix/signing-key.pub");
 * ```
 * @throws {TrustFileError} naming the file and the problem.
 */
export function loadGuixPublicKey(
  path: string,
  files: TrustFiles = denoTrustFiles,
): Promise<GuixPublicKey> {
  return load(path, files, (b) => parseGuixPublicKey(b));
}

/**
 * Reads a Guix `signing-key.sec`.
 *
 * @example
 * ```ts
 * import { loadGuixPrivateKey } from "./deno_files.ts";
 * await loadGuixPrivateKey("/etc/guix/signing-key.sec");
 * ```
 * @throws {TrustFileError} naming the file and the problem.
 */
export function loadGuixPrivateKey(
  path: string,
  files: TrustFiles = denoTrustFiles,
): Promise<GuixPrivateKey> {
  return load(path, files, (b) => parseGuixPrivateKey(b));
}

/**
 * Reads a Nix secret key file (`nix key generate-secret` output).
 *
 * @example
 * ```ts
 * import { loadNixSecretKey } from "./deno_files.ts";
 * await loadNixSecretKey("/etc/nix/cache.sec");
 * ```
 * @throws {TrustFileError} naming the file and the problem.
 */
export function loadNixSecretKey(
  path: string,
  files: TrustFiles = denoTrustFiles,
): Promise<NixSecretKey> {
  return load(path, files, (b) => parseNixSecretKey(new TextDecoder().decode(b)));
}
