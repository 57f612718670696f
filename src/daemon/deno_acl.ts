/**
 * The daemon's view of the Guix ACL: loaded at start and reloaded when the
 * file changes (checked at most once per second), so `guix archive
 * --authorize` takes effect without a restart. A missing ACL authorizes
 * nothing (as in Guix), with a warning.
 *
 * @example
 * ```ts
 * const acl = new WatchedAcl("/etc/guix/acl", { onLoad: console.log });
 * const current = await acl.current();
 * ```
 * @module
 */
import { Acl } from "../trust/acl.ts";
import { denoTrustFiles } from "../fs/deno_trust_files.ts";
import { loadAcl } from "../trust/files.ts";

/** An ACL file kept up to date. */
export class WatchedAcl {
  #path: string;
  #acl: Acl = new Acl([]);
  #stamp = "";
  #checkedAt = -Infinity;
  #onLoad: (acl: Acl, error?: Error) => void;

  /** Watches `path`; `onLoad` is told about each (re)load or failure. */
  constructor(path: string, options: { onLoad?: (acl: Acl, error?: Error) => void } = {}) {
    this.#path = path;
    this.#onLoad = options.onLoad ?? (() => {});
  }

  /** The ACL file's path. */
  get path(): string {
    return this.#path;
  }

  /** The current ACL (re-read if the file's size or mtime changed). */
  async current(): Promise<Acl> {
    const now = performance.now();
    if (now - this.#checkedAt < 1000) return this.#acl;
    this.#checkedAt = now;
    let stamp: string;
    try {
      const st = await Deno.stat(this.#path);
      stamp = `${st.mtime?.getTime()}:${st.size}:${st.ino}`;
    } catch {
      stamp = "missing";
    }
    if (stamp === this.#stamp) return this.#acl;
    this.#stamp = stamp;
    if (stamp === "missing") {
      this.#acl = new Acl([]);
      this.#onLoad(
        this.#acl,
        new Error(`ACL ${this.#path} does not exist: no narinfo is authorized`),
      );
      return this.#acl;
    }
    try {
      this.#acl = await loadAcl(this.#path, denoTrustFiles);
      this.#onLoad(this.#acl);
    } catch (e) {
      this.#acl = new Acl([]);
      this.#onLoad(this.#acl, e as Error);
    }
    return this.#acl;
  }
}
