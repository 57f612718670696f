/**
 * Loading key and ACL files through a {@linkcode TrustFiles} reader (the
 * Deno one is `src/fs/deno_trust_files.ts`). Errors name the file.
 *
 * @example
 * ```ts
 * import { defaultAclPath, loadAcl, type TrustFiles } from "./files.ts";
 * declare const files: TrustFiles;
 * const acl = await loadAcl(defaultAclPath({ get: () => undefined }), files);
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

/**
 * Guix's ACL location: `$GUIX_CONFIGURATION_DIRECTORY/acl`, else `/etc/guix/acl`.
 *
 * @example
 * ```ts
 * import { defaultAclPath } from "./files.ts";
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
 * import { loadAcl, type TrustFiles } from "./files.ts";
 * declare const files: TrustFiles;
 * await loadAcl("/etc/guix/acl", files);
 * ```
 * @throws {TrustFileError} naming the file and the problem.
 */
export function loadAcl(
  path: string,
  files: TrustFiles,
  options: ParseAclOptions = {},
): Promise<Acl> {
  return load(path, files, (b) => parseAcl(b, options));
}

/**
 * Reads a Guix `signing-key.pub`.
 *
 * @example
 * ```ts
 * import { loadGuixPublicKey, type TrustFiles } from "./files.ts";
 * declare const files: TrustFiles;
 * await loadGuixPublicKey("/etc/guix/signing-key.pub", files);
 * ```
 * @throws {TrustFileError} naming the file and the problem.
 */
export function loadGuixPublicKey(
  path: string,
  files: TrustFiles,
): Promise<GuixPublicKey> {
  return load(path, files, (b) => parseGuixPublicKey(b));
}

/**
 * Reads a Guix `signing-key.sec`.
 *
 * @example
 * ```ts
 * import { loadGuixPrivateKey, type TrustFiles } from "./files.ts";
 * declare const files: TrustFiles;
 * await loadGuixPrivateKey("/etc/guix/signing-key.sec", files);
 * ```
 * @throws {TrustFileError} naming the file and the problem.
 */
export function loadGuixPrivateKey(
  path: string,
  files: TrustFiles,
): Promise<GuixPrivateKey> {
  return load(path, files, (b) => parseGuixPrivateKey(b));
}

/**
 * Reads a Nix secret key file (`nix key generate-secret` output).
 *
 * @example
 * ```ts
 * import { loadNixSecretKey, type TrustFiles } from "./files.ts";
 * declare const files: TrustFiles;
 * await loadNixSecretKey("/etc/nix/cache.sec", files);
 * ```
 * @throws {TrustFileError} naming the file and the problem.
 */
export function loadNixSecretKey(
  path: string,
  files: TrustFiles,
): Promise<NixSecretKey> {
  return load(path, files, (b) => parseNixSecretKey(new TextDecoder().decode(b)));
}
