/**
 * The file-system adapters of the pure cores: a NAR source over real paths
 * and a restore target that restores exactly as Guix does, the path-level NAR
 * conveniences built on them (dump, hash with a worker thread, restore, random
 * access), and the reader of key and ACL files. Everything here calls `Deno.*`;
 * `nar/` and `trust/` never do.
 *
 * @example
 * ```ts
 * import { dumpPath, hashPath, restoreNarToPath } from "./mod.ts";
 * import { formatNarHash } from "../hash/nar_hash.ts";
 * const { digest, size } = await hashPath("/etc/hostname");
 * console.log(formatNarHash(digest), size);
 * await restoreNarToPath(dumpPath("/etc/hostname"), "/tmp/hostname-copy", { maxSize: size });
 * ```
 * @module
 */
export { denoNarSource } from "./deno_nar_source.ts";
export {
  DEFAULT_WORKER_THRESHOLD,
  type DenoRestoreOptions,
  DenoRestoreTarget,
  denoRestoreTarget,
} from "./deno_restore_target.ts";
export { removeTree } from "./remove_tree.ts";
export { hashPath, type HashPathOptions } from "./hash_path.ts";
export {
  dumpPath,
  narLayoutOfPath,
  readNarRangeOfPath,
  restoreNarToPath,
  type SignalOptions,
} from "./nar_path.ts";
export { denoTrustFiles } from "./deno_trust_files.ts";
