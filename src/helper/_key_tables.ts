/**
 * When to build an ACL key's window table in the helper. The helper loads its
 * ACL without tables: a `--substitute` or a small `have` checks a handful of
 * signatures, each ~0.4 ms without tables (src/trust/ecdsa.ts), while tables
 * cost ~5 ms per key plus ~5 ms for the base point at the helper's window
 * size W=6 (~18 ms each at the daemon's W=8). Once a key has signed, or is
 * about to sign, about fifty narinfos in this process, its table pays for
 * itself (verification ~400 → ~135 µs, docs/benchmarks.md "Closure (issue
 * 9)") and is built, once.
 *
 * @example
 * ```ts
 * import { KeyTables } from "./_key_tables.ts";
 * const tables = new KeyTables();
 * // while the daemon resolves a batch of paths.length narinfos:
 * tables.prepare(acl, paths.length);
 * // after each successful check, with the narinfos still to check in this batch:
 * tables.noteUse(acl, verdict.signer, remaining);
 * ```
 * @module
 */
import type { Acl } from "../trust/acl.ts";

/** Uses (past + known upcoming) after which a key gets its table. */
export const TABLE_AFTER_USES = 50;

/** The helper's table window: quicker to build than the daemon's W=8, nearly as fast to use. */
export const HELPER_WINDOW = 6;

/** ACLs with more keys than this get tables only for the keys that sign (see `prepare`). */
export const PREPARE_MAX_KEYS = 3;

/** What a key needs for this policy (a `GuixPublicKey` in practice). */
export interface TableableKey {
  /** `7D6029…E34F`, as in `Authorization.signer`. */
  readonly shortHex: string;
  /** Builds the window table. */
  precompute(windowSize: number): unknown;
}

/** Counts signature checks per ACL key and builds a key's table once it is worth it. */
export class KeyTables {
  #uses = new WeakMap<TableableKey, number>();
  #built = new WeakSet<TableableKey>();
  #threshold: number;

  /** Creates the policy; `threshold` uses (default {@linkcode TABLE_AFTER_USES}). */
  constructor(threshold = TABLE_AFTER_USES) {
    this.#threshold = threshold;
  }

  /**
   * Builds now the tables of every key of a small ACL (at most
   * {@linkcode PREPARE_MAX_KEYS}) when a batch of `upcoming` checks is about
   * to start, before it is known which key signed what: for a helper waiting
   * for the daemon to resolve a batch, whose CPU is otherwise idle. Returns
   * how many tables this call built.
   */
  prepare(acl: Pick<Acl, "entries">, upcoming: number): number {
    if (upcoming < this.#threshold) return 0;
    const keys = acl.entries.flatMap((e) => (e.key ? [e.key as TableableKey] : []));
    if (keys.length > PREPARE_MAX_KEYS) return 0;
    let built = 0;
    for (const key of keys) {
      if (this.#built.has(key)) continue;
      key.precompute(HELPER_WINDOW);
      this.#built.add(key);
      built++;
    }
    return built;
  }

  /**
   * Records that `signer` (an `Authorization.signer`: short hex, then an
   * optional host) signed a narinfo, with `upcoming` more checks expected in
   * the current batch. Returns true when this call built the key's table.
   */
  noteUse(acl: Pick<Acl, "entries">, signer: string, upcoming: number): boolean {
    const shortHex = signer.split(" ")[0];
    const key = acl.entries.find((e) => e.key?.shortHex === shortHex)?.key as
      | TableableKey
      | undefined;
    if (!key || this.#built.has(key)) return false;
    const uses = (this.#uses.get(key) ?? 0) + 1;
    this.#uses.set(key, uses);
    if (uses + upcoming < this.#threshold) return false;
    key.precompute(HELPER_WINDOW);
    this.#built.add(key);
    return true;
  }
}
