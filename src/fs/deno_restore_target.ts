/**
 * The Deno {@linkcode RestoreTarget} of the NAR core: restores exactly as Guix
 * does (guix-substitute-protocol.md §5.6, §6.2).
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

/** Options of {@linkcode denoRestoreTarget}. */
export interface DenoRestoreOptions {
  /**
   * After this many small files, a worker thread starts and creates part of
   * the following ones in parallel (directory modes and times are then set
   * at the end). Default 1000; `Infinity` never starts one.
   */
  workerThreshold?: number | undefined;
}

/** The Deno restore target, with counters for diagnostics. */
export interface DenoRestoreTarget extends RestoreTarget {
  /** Whether a worker thread was started and has loaded. */
  readonly workerReady: boolean;
  /** Files handed to the worker thread so far. */
  readonly workerFiles: number;
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
  // Without this, a restrictive umask would leave files less readable than Guix's.
  const umaskHidesBits = (Deno.umask() & 0o555) !== 0;
  const threshold = options.workerThreshold ?? DEFAULT_WORKER_THRESHOLD;
  const dirs = new Set<string>();
  let rootCreated = false;
  let aborted = false;
  let open: Deno.FsFile | undefined;
  let smallFiles = 0;
  let pool: { ring: FileRing; worker: Worker } | undefined;
  let poolFailed = false;
  let workerCrash: string | undefined;
  let workerReady = false;
  let workerFiles = 0;
  /** Directories to finish once the worker is done (it may still add entries). */
  const deferred: string[] = [];
  const encoder = new TextEncoder();

  const full = (path: string) => (path === "" ? dest : `${dest}/${path}`);
  const fail = (what: string, path: string, e: unknown): never => {
    if (path === "" && e instanceof Deno.errors.AlreadyExists) {
      throw new NarRestoreError("the destination already exists", dest, { cause: e });
    }
    const detail = e instanceof Error ? e.message : String(e);
    throw new NarRestoreError(`${what}: ${detail}`, full(path), { cause: e });
  };
  const checkWorker = () => {
    const failure = pool?.ring.failure();
    if (failure !== undefined) {
      const [detail = failure, path = dest] = failure.split("\0");
      throw new NarRestoreError(detail, path);
    }
  };
  /** Defence in depth: every entry goes into a directory this restore created. */
  const checkParent = (path: string) => {
    if (aborted) throw new NarRestoreError("the restore was aborted", full(path));
    if (path === "") {
      if (rootCreated) throw new NarRestoreError("the root was already created", dest);
      return;
    }
    const slash = path.lastIndexOf("/");
    const parent = slash < 0 ? "" : path.slice(0, slash);
    if (!dirs.has(parent)) {
      throw new NarRestoreError(
        `refusing to create an entry in ${JSON.stringify(parent)}, not a directory of this restore`,
        full(path),
      );
    }
  };
  const startWorker = () => {
    try {
      const ring = new FileRing(RING_BYTES);
      const worker = new Worker(new URL("./_restore_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onerror = (event) => {
        event.preventDefault();
        workerCrash = event.message || String(event.error);
      };
      worker.postMessage({ control: ring.control, data: ring.data, chmod: umaskHidesBits });
      pool = { ring, worker };
    } catch {
      poolFailed = true; // e.g. no worker support: carry on in this thread
    }
  };
  const stopWorker = async (drain: boolean) => {
    const p = pool;
    if (!p) return;
    pool = undefined;
    p.ring.stop(drain);
    try {
      await p.ring.stopped(WORKER_STOP_MS, () => workerCrash);
    } finally {
      p.worker.terminate();
    }
  };
  const finishDirectory = (path: string) => {
    try {
      Deno.chmodSync(full(path), DIRECTORY_MODE);
      lutimesSync(full(path), EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
    } catch (e) {
      fail("cannot finish the directory", path, e);
    }
  };

  return {
    get workerReady() {
      return workerReady || (pool?.ring.ready ?? false);
    },
    get workerFiles() {
      return workerFiles;
    },
    directory(path) {
      checkParent(path);
      try {
        Deno.mkdirSync(full(path), { mode: BUILDING_MODE });
      } catch (e) {
        fail("cannot create the directory", path, e);
      }
      if (path === "") rootCreated = true;
      dirs.add(path);
    },
    file(path, executable): RestoreFile {
      checkParent(path);
      checkWorker();
      const mode = executable ? EXECUTABLE_MODE : FILE_MODE;
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(full(path), { write: true, createNew: true, mode });
      } catch (e) {
        return fail("cannot create the file", path, e);
      }
      if (path === "") rootCreated = true;
      open = file;
      return {
        write(chunk) {
          try {
            let at = 0;
            while (at < chunk.length) at += file.writeSync(at === 0 ? chunk : chunk.subarray(at));
          } catch (e) {
            fail("cannot write the file", path, e);
          }
        },
        finish() {
          try {
            file.utimeSync(EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
            if (umaskHidesBits) Deno.chmodSync(full(path), mode);
            open = undefined;
            file.close();
          } catch (e) {
            fail("cannot finish the file", path, e);
          }
        },
      };
    },
    smallFile(path, executable, contents) {
      checkParent(path);
      checkWorker();
      if (path !== "") {
        smallFiles++;
        if (!pool && !poolFailed && smallFiles > threshold) startWorker();
        // Hand it to the worker unless its queue is full; then do it here.
        if (pool && pool.ring.push(encoder.encode(full(path)), executable, contents)) {
          workerReady = true;
          workerFiles++;
          return;
        }
        if (pool?.ring.ready) workerReady = true;
      }
      const mode = executable ? EXECUTABLE_MODE : FILE_MODE;
      try {
        // One call: open(O_CREAT|O_EXCL) + write + close.
        Deno.writeFileSync(full(path), contents, { createNew: true, mode });
      } catch (e) {
        fail("cannot create the file", path, e);
      }
      if (path === "") rootCreated = true;
      try {
        // Our own fresh file in a 0700 directory of this restore; lutimes never follows a link.
        lutimesSync(full(path), EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
        if (umaskHidesBits) Deno.chmodSync(full(path), mode);
      } catch (e) {
        fail("cannot finish the file", path, e);
      }
    },
    symlink(path, target) {
      checkParent(path);
      try {
        Deno.symlinkSync(target, full(path));
      } catch (e) {
        fail("cannot create the symlink", path, e);
      }
      if (path === "") rootCreated = true;
      try {
        lutimesSync(full(path), EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
      } catch (e) {
        fail("cannot set the symlink's times", path, e);
      }
    },
    directoryEnd(path) {
      if (pool) deferred.push(path);
      else finishDirectory(path);
    },
    async commit() {
      const p = pool;
      if (!p) return;
      await stopWorker(true);
      const failure = p.ring.failure();
      if (failure !== undefined) {
        const [detail = failure, path = dest] = failure.split("\0");
        throw new NarRestoreError(detail, path);
      }
      // Innermost first: the order of the directory ends.
      for (const path of deferred) finishDirectory(path);
    },
    async abort() {
      aborted = true;
      if (open) {
        try {
          open.close();
        } catch { /* already closed */ }
        open = undefined;
      }
      try {
        await stopWorker(false);
      } catch {
        // Stopped or crashed either way: it is terminated now.
      }
      if (rootCreated) removeTree(dest);
    },
  };
}
