/**
 * `hashPath`: the NAR hash of a file-system path (`nix hash path`). The first chunks of the
 * NAR are held back: past {@linkcode WORKER_START_BYTES} a hashing worker thread is
 * started (its start-up overlaps the walk), past {@linkcode WORKER_MIN_BYTES}
 * the held chunks and all later ones go to it, so the walk and file reads run
 * here and the SHA-256 there, on two cores. If the NAR stays small, or no
 * worker can be started, everything happens here.
 *
 * @example
 * ```ts
 * import { hashPath } from "./hash_path.ts";
 * import { formatNarHash } from "../hash/nar_hash.ts";
 * const { digest, size } = await hashPath("/etc");
 * formatNarHash(digest); // "sha256:..."
 * ```
 * @module
 */
import { Sha256 } from "../hash/sha256.ts";
import { DEFAULT_CHUNK_SIZE, writeNar } from "../nar/mod.ts";
import { denoNarSource } from "./deno_nar_source.ts";

/** NAR size at which the hashing worker thread is started. */
export const WORKER_START_BYTES = 4 << 20;
/** NAR size from which the hashing moves to the worker thread. */
export const WORKER_MIN_BYTES = 16 << 20;
/** Chunks handed to the worker and not yet hashed, at most. */
const MAX_IN_FLIGHT = 16;
/** Held chunks, at most, while waiting for the worker to load; then this thread hashes. */
const MAX_HELD_BYTES = 64 << 20;

/** Options of {@linkcode hashPath}. */
export interface HashPathOptions {
  /** Stops the walk with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Allow a hashing worker thread (default true). */
  worker?: boolean | undefined;
  /** Called when the hashing moves to the worker thread (diagnostics, tests). */
  onHandover?: (() => void) | undefined;
  /**
   * Wait (up to 30 s) for the worker to load instead of hashing here once
   * 64 MiB are held (tests: the hand-over is then deterministic).
   */
  awaitWorker?: boolean | undefined;
}

/**
 * SHA-256 and size of the NAR of `path`, computed without any stream
 * machinery. Once a NAR passes 16 MiB its SHA-256 runs in a worker thread
 * while this one walks and reads (`worker: false`: all in this thread).
 *
 * @example
 * ```ts
 * import { hashPath } from "./hash_path.ts";
 * const { size } = await hashPath("/etc/hostname", { worker: false });
 * ```
 */
export async function hashPath(
  path: string,
  options: HashPathOptions = {},
): Promise<{ digest: Uint8Array; size: number }> {
  const source = denoNarSource();
  if (options.worker === false) {
    const hash = new Sha256();
    const size = await writeNar(source, path, (chunk) => void hash.update(chunk), {
      reuseBuffer: true,
      signal: options.signal,
    });
    return { digest: hash.digest(), size };
  }

  let worker: Worker | undefined;
  let workerFailed = false;
  let ready = false;
  /** Set when this thread does the hashing after all. */
  let local: Sha256 | undefined;
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let handedOver = false;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let failure: unknown;
  const spare: Uint8Array[] = [];
  const { promise: result, resolve, reject } = Promise.withResolvers<
    { digest: Uint8Array; size: number }
  >();
  result.catch(() => {});
  let readyWaiter: (() => void) | undefined;
  const waitReady = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      readyWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const start = () => {
    try {
      worker = new Worker(new URL("./_hash_worker.ts", import.meta.url).href, { type: "module" });
    } catch {
      workerFailed = true; // no worker support: hash in this thread
      return;
    }
    worker.onmessage = (event: MessageEvent) => {
      const data = event.data;
      if (data === "ready") {
        ready = true;
        readyWaiter?.();
      } else if (data instanceof Uint8Array) {
        inFlight--;
        if (data.byteLength === DEFAULT_CHUNK_SIZE) spare.push(data);
        const w = wake;
        wake = undefined;
        w?.();
      } else {
        resolve(data as { digest: Uint8Array; size: number });
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      if (!handedOver) {
        // It never got any data (e.g. its module is missing from a compiled binary).
        workerFailed = true;
        worker?.terminate();
        worker = undefined;
        return;
      }
      failure = event.error ?? new Error(event.message);
      reject(failure);
      wake?.();
    };
  };
  const send = (chunk: Uint8Array) => {
    inFlight++;
    worker!.postMessage(chunk, [chunk.buffer as ArrayBuffer]);
  };

  try {
    const size = await writeNar(source, path, (chunk) => {
      if (failure) throw failure;
      if (local) {
        local.update(chunk);
        return;
      }
      if (!handedOver) {
        held.push(chunk);
        heldBytes += chunk.length;
        if (!worker && !workerFailed && heldBytes >= WORKER_START_BYTES) start();
        if (options.awaitWorker && worker && !ready && !workerFailed) {
          return waitReady().then(() => {
            if (!ready) throw new Error("the hashing worker did not start within 30 s");
          });
        }
        if (heldBytes >= MAX_HELD_BYTES && !(worker && ready)) {
          // No worker (yet): hash here from now on.
          worker?.terminate();
          worker = undefined;
          workerFailed = true;
          local ??= new Sha256();
          for (const c of held.splice(0)) local.update(c);
          return;
        }
        // Its "ready" message only arrives when this thread yields to the event loop.
        if (worker && !ready) return new Promise<void>((r) => setTimeout(r, 0));
        if (!worker || heldBytes < WORKER_MIN_BYTES) return;
        handedOver = true;
        options.onHandover?.();
        for (const c of held.splice(0)) send(c);
      } else {
        send(chunk);
      }
      if (inFlight < MAX_IN_FLIGHT) return;
      return new Promise<void>((r) => (wake = r)).then(() => {
        if (failure) throw failure;
      });
    }, {
      signal: options.signal,
      allocate: () => spare.pop() ?? new Uint8Array(DEFAULT_CHUNK_SIZE),
    });
    if (!handedOver) {
      const hash = local ?? new Sha256();
      for (const c of held) hash.update(c);
      return { digest: hash.digest(), size };
    }
    worker!.postMessage("end");
    const out = await result;
    if (out.size !== size) {
      throw new Error(`hash worker saw ${out.size} bytes, the NAR has ${size}`);
    }
    return out;
  } finally {
    worker?.terminate();
  }
}
