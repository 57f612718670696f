/**
 * `hashPath`: the NAR hash of a file-system path. Small NARs are hashed in
 * this thread from one reused buffer. For a directory, a hashing worker
 * thread is started at once (its start-up overlaps the walk); once the NAR
 * passes {@linkcode WORKER_MIN_BYTES} the walk and the file reads stay here
 * and the SHA-256 runs there, so both cores work. If the NAR stays small, or
 * no worker can be started, everything happens here.
 *
 * @example
 * ```ts
 * import { hashPathImpl } from "./_hash_path.ts";
 * const { digest, size } = await hashPathImpl("/etc", {});
 * ```
 * @module
 */
import { Sha256 } from "../hash/sha256.ts";
import { denoNarSource } from "./deno_fs.ts";
import { DEFAULT_CHUNK_SIZE, writeNar } from "./writer.ts";

/** NAR size from which the hashing moves to the worker thread. */
export const WORKER_MIN_BYTES = 16 << 20;
/** Chunks handed to the worker and not yet hashed, at most. */
const MAX_IN_FLIGHT = 8;

/** Options of {@linkcode hashPathImpl}. */
export interface HashPathOptions {
  /** Stops the walk with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Allow a hashing worker thread (default true). */
  worker?: boolean | undefined;
}

/** See the module documentation. */
export async function hashPathImpl(
  path: string,
  options: HashPathOptions,
): Promise<{ digest: Uint8Array; size: number }> {
  const source = denoNarSource();
  const isDirectory = options.worker !== false &&
    (() => {
      try {
        return Deno.lstatSync(path).isDirectory;
      } catch {
        return false; // the walk reports the error
      }
    })();
  if (!isDirectory) {
    const hash = new Sha256();
    const size = await writeNar(source, path, (chunk) => void hash.update(chunk), {
      reuseBuffer: true,
      signal: options.signal,
    });
    return { digest: hash.digest(), size };
  }

  const worker = startWorker();
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
  if (worker) {
    worker.onmessage = (event: MessageEvent) => {
      const data = event.data;
      if (data instanceof Uint8Array) {
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
      failure = event.error ?? new Error(event.message);
      reject(failure);
      wake?.();
    };
  }
  const send = (chunk: Uint8Array) => {
    inFlight++;
    worker!.postMessage(chunk, [chunk.buffer as ArrayBuffer]);
  };

  try {
    const size = await writeNar(source, path, (chunk) => {
      if (failure) throw failure;
      if (!handedOver) {
        held.push(chunk);
        heldBytes += chunk.length;
        if (!worker || heldBytes < WORKER_MIN_BYTES) return;
        handedOver = true;
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
      const hash = new Sha256();
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

function startWorker(): Worker | undefined {
  try {
    return new Worker(new URL("./_hash_worker.ts", import.meta.url).href, { type: "module" });
  } catch {
    return undefined;
  }
}
