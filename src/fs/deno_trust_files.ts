/**
 * The Deno {@linkcode TrustFiles} of the trust core: key and ACL files read
 * with `Deno.readFile`.
 *
 * @example
 * ```ts
 * import { denoTrustFiles } from "./deno_trust_files.ts";
 * import { loadAcl } from "../trust/mod.ts";
 * const acl = await loadAcl("/etc/guix/acl", denoTrustFiles);
 * ```
 * @module
 */
import type { TrustFiles } from "../trust/mod.ts";

/** {@linkcode TrustFiles} over `Deno.readFile`. */
export const denoTrustFiles: TrustFiles = {
  readFile: (path) => Deno.readFile(path),
};
