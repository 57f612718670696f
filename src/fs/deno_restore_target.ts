/**
 * The Deno {@linkcode RestoreTarget} of the NAR core: restores exactly as Guix
 * does (../shared/docs/guix-substitute-protocol.md §5.6, §6.2).
 *
 * It uses Deno's synchronous calls: they are several times cheaper per call
 * than the async ones, which dominates for trees of many small files. Each
 * call blocks the event loop for one system call (reads and writes are at
 * most one chunk, 1 MiB by default).
 *
 * Restore rules: the destination must not exist; files are created with
 * create-new (`O_CREAT|O_EXCL`, which never follows a final symlink) and end
 * up 0444 or 0555, directories are 0700 while being filled and 0555 after
 * their entries; every file, directory and symlink gets atime = mtime = 1
 * (1970-01-01T00:00:01Z). Symlink times use `node:fs` `lutimesSync`
 * (`lutimes(3)`, verified to work in Deno 2.9.6), so no time, mode or content
 * is ever set through a symlink. Every entry is created inside a directory
 * this restore created. On any failure the partial destination is removed
 * (directories are made writable first, so this also works without root).
 *
 * @example
 * ```ts
 * import { denoNarSource } from "./deno_nar_source.ts";
 * import { denoRestoreTarget } from "./deno_restore_target.ts";
 * import { narStream, restoreNar } from "../nar/mod.ts";
 * const nar = narStream(denoNarSource(), "/etc/hostname");
 * await restoreNar(nar, denoRestoreTarget("/tmp/hostname-copy"));
 * ```
 * @module
 */
import { lutimesSync } from "node:fs";
import { NarRestoreError, type RestoreFile, type RestoreTarget } from "../nar/mod.ts";
import { FileRing } from "./_file_ring.ts";
import { BUILDING_MODE, removeTree } from "./remove_tree.ts";

/** Guix's mode for a restored file. */
const FILE_MODE = 0o444;
const EXECUTABLE_MODE = 0o555;
const DIRECTORY_MODE = 0o555;
/** atime = mtime = 1 s after the epoch, as Guix and Nix set them. */
const EPOCH_PLUS_ONE = 1;

/** Options of {@linkcode DenoRestoreTarget}. */
export interface DenoRestoreOptions {
  /**
   * After this many small files, a worker thread starts and creates part of
   * the following ones in parallel (directory modes and times are then set
   * at the end). Default 1000; `Infinity` never starts one.
   */
  workerThreshold?: number | undefined;
}

/** Default {@linkcode DenoRestoreOptions.workerThreshold}. */
export const DEFAULT_WORKER_THRESHOLD = 1000;
/** Size of the shared queue of small files handed to the worker. */
const RING_BYTES = 1 << 20;
/** How long to wait for the worker to finish its queue or to stop. */
const WORKER_STOP_MS = 120_000;

/**
 * A target that restores into `dest`, which must not exist yet (its parent
 * must). See the module documentation for the exact rules.
 *
 * @example
 * ```ts
 * import { DenoRestoreTarget } from "./deno_restore_target.ts";
 * import { restoreNar } from "../nar/mod.ts";
 * declare const nar: ReadableStream<Uint8Array>;
 * await restoreNar(nar, new DenoRestoreTarget("/tmp/new-item"), { maxSize: 1 << 30 });
 * ```
 */
export class DenoRestoreTarget implements RestoreTarget {
  readonly #dest: string;
  readonly #threshold: number;
  /** chmod after creating: a restrictive umask would leave files less readable than Guix's. */
  readonly #chmod = (Deno.umask() & 0o555) !== 0;
  /** Directories this restore created (every entry goes into one of them). */
  readonly #dirs = new Set<string>();
  #rootCreated = false;
  #aborted = false;
  #open: Deno.FsFile | undefined;
  #smallFiles = 0;
  #pool: { ring: FileRing; worker: Worker } | undefined;
  #poolFailed = false;
  #workerCrash: string | undefined;
  #workerReady = false;
  #workerFiles = 0;
  /** Directories to finish once the worker is done (it may still add entries). */
  readonly #deferred: string[] = [];
  readonly #encoder = new TextEncoder();

  /** A target restoring into `dest`. */
  constructor(dest: string, options: DenoRestoreOptions = {}) {
    this.#dest = dest;
    this.#threshold = options.workerThreshold ?? DEFAULT_WORKER_THRESHOLD;
  }

  /** Whether a worker thread was started and has loaded. */
  get workerReady(): boolean {
    return this.#workerReady || (this.#pool?.ring.ready ?? false);
  }

  /** Files handed to the worker thread so far. */
  get workerFiles(): number {
    return this.#workerFiles;
  }

  /**
   * Resolves true once the worker thread started by this restore has loaded,
   * false when none runs or it did not load within `timeoutMs` (diagnostics
   * and tests).
   */
  workerLoaded(timeoutMs: number): Promise<boolean> {
    return this.#pool ? this.#pool.ring.loaded(timeoutMs) : Promise.resolve(this.workerReady);
  }

  directory(path: string): void {
    this.#checkParent(path);
    try {
      Deno.mkdirSync(this.#full(path), { mode: BUILDING_MODE });
    } catch (e) {
      this.#fail("cannot create the directory", path, e);
    }
    this.#created(path);
    this.#dirs.add(path);
  }

  file(path: string, executable: boolean): RestoreFile {
    this.#checkParent(path);
    this.#checkWorker();
    const mode = executable ? EXECUTABLE_MODE : FILE_MODE;
    const full = this.#full(path);
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(full, { write: true, createNew: true, mode });
    } catch (e) {
      return this.#fail("cannot create the file", path, e);
    }
    this.#created(path);
    this.#open = file;
    return {
      write: (chunk) => {
        try {
          let at = 0;
          while (at < chunk.length) at += file.writeSync(at === 0 ? chunk : chunk.subarray(at));
        } catch (e) {
          this.#fail("cannot write the file", path, e);
        }
      },
      finish: () => {
        try {
          file.utimeSync(EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
          if (this.#chmod) Deno.chmodSync(full, mode);
          this.#open = undefined;
          file.close();
        } catch (e) {
          this.#fail("cannot finish the file", path, e);
        }
      },
    };
  }

  smallFile(path: string, executable: boolean, contents: Uint8Array): void {
    this.#checkParent(path);
    this.#checkWorker();
    if (path !== "" && this.#handToWorker(path, executable, contents)) return;
    const mode = executable ? EXECUTABLE_MODE : FILE_MODE;
    const full = this.#full(path);
    try {
      // One call: open(O_CREAT|O_EXCL) + write + close.
      Deno.writeFileSync(full, contents, { createNew: true, mode });
    } catch (e) {
      this.#fail("cannot create the file", path, e);
    }
    this.#created(path);
    try {
      // Our own fresh file in a 0700 directory of this restore; lutimes never follows a link.
      lutimesSync(full, EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
      if (this.#chmod) Deno.chmodSync(full, mode);
    } catch (e) {
      this.#fail("cannot finish the file", path, e);
    }
  }

  symlink(path: string, target: string): void {
    this.#checkParent(path);
    try {
      Deno.symlinkSync(target, this.#full(path));
    } catch (e) {
      this.#fail("cannot create the symlink", path, e);
    }
    this.#created(path);
    try {
      lutimesSync(this.#full(path), EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
    } catch (e) {
      this.#fail("cannot set the symlink's times", path, e);
    }
  }

  directoryEnd(path: string): void {
    if (this.#pool) this.#deferred.push(path);
    else this.#finishDirectory(path);
  }

  async commit(): Promise<void> {
    const pool = this.#pool;
    if (!pool) return;
    await this.#stopWorker(true);
    this.#throwWorkerFailure(pool.ring);
    // Innermost first: the order of the directory ends.
    for (const path of this.#deferred) this.#finishDirectory(path);
  }

  async abort(): Promise<void> {
    this.#aborted = true;
    if (this.#open) {
      try {
        this.#open.close();
      } catch { /* already closed */ }
      this.#open = undefined;
    }
    try {
      await this.#stopWorker(false);
    } catch {
      // Stopped or crashed either way: it is terminated now.
    }
    if (this.#rootCreated) removeTree(this.#dest);
  }

  #full(path: string): string {
    return path === "" ? this.#dest : `${this.#dest}/${path}`;
  }

  #created(path: string): void {
    if (path === "") this.#rootCreated = true;
  }

  #fail(what: string, path: string, e: unknown): never {
    if (path === "" && e instanceof Deno.errors.AlreadyExists) {
      throw new NarRestoreError("the destination already exists", this.#dest, { cause: e });
    }
    const detail = e instanceof Error ? e.message : String(e);
    throw new NarRestoreError(`${what}: ${detail}`, this.#full(path), { cause: e });
  }

  /** Defence in depth: every entry goes into a directory this restore created. */
  #checkParent(path: string): void {
    if (this.#aborted) throw new NarRestoreError("the restore was aborted", this.#full(path));
    if (path === "") {
      if (this.#rootCreated) throw new NarRestoreError("the root was already created", this.#dest);
      return;
    }
    const slash = path.lastIndexOf("/");
    const parent = slash < 0 ? "" : path.slice(0, slash);
    if (!this.#dirs.has(parent)) {
      throw new NarRestoreError(
        `refusing to create an entry in ${JSON.stringify(parent)}, not a directory of this restore`,
        this.#full(path),
      );
    }
  }

  #checkWorker(): void {
    if (this.#pool) this.#throwWorkerFailure(this.#pool.ring);
  }

  #throwWorkerFailure(ring: FileRing): void {
    const failure = ring.failure();
    if (failure !== undefined) {
      const [detail = failure, path = this.#dest] = failure.split("\0");
      throw new NarRestoreError(detail, path);
    }
  }

  /** Queues a small file for the worker (starting it past the threshold); false: do it here. */
  #handToWorker(path: string, executable: boolean, contents: Uint8Array): boolean {
    this.#smallFiles++;
    if (!this.#pool && !this.#poolFailed && this.#smallFiles > this.#threshold) this.#startWorker();
    const pool = this.#pool;
    if (!pool) return false;
    // Its queue may be full: then this thread creates the file.
    if (pool.ring.push(this.#encoder.encode(this.#full(path)), executable, contents)) {
      this.#workerReady = true;
      this.#workerFiles++;
      return true;
    }
    if (pool.ring.ready) this.#workerReady = true;
    return false;
  }

  #startWorker(): void {
    try {
      const ring = new FileRing(RING_BYTES);
      const worker = new Worker(new URL("./_restore_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onerror = (event) => {
        event.preventDefault();
        this.#workerCrash = event.message || String(event.error);
      };
      worker.postMessage({ control: ring.control, data: ring.data, chmod: this.#chmod });
      this.#pool = { ring, worker };
    } catch {
      this.#poolFailed = true; // e.g. no worker support: carry on in this thread
    }
  }

  async #stopWorker(drain: boolean): Promise<void> {
    const pool = this.#pool;
    if (!pool) return;
    this.#pool = undefined;
    pool.ring.stop(drain);
    try {
      await pool.ring.stopped(WORKER_STOP_MS, () => this.#workerCrash);
    } finally {
      pool.worker.terminate();
    }
  }

  #finishDirectory(path: string): void {
    try {
      Deno.chmodSync(this.#full(path), DIRECTORY_MODE);
      lutimesSync(this.#full(path), EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
    } catch (e) {
      this.#fail("cannot finish the directory", path, e);
    }
  }
}

/**
 * A {@linkcode DenoRestoreTarget} restoring into `dest`.
 *
 * @example
 * ```ts
 * import { denoRestoreTarget } from "./deno_restore_target.ts";
 * import { restoreNar } from "../nar/mod.ts";
 * declare const nar: ReadableStream<Uint8Array>;
 * await restoreNar(nar, denoRestoreTarget("/tmp/new-item"), { maxSize: 1 << 30 });
 * ```
 */
export function denoRestoreTarget(
  dest: string,
  options: DenoRestoreOptions = {},
): DenoRestoreTarget {
  return new DenoRestoreTarget(dest, options);
}
