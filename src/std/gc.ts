/**
 * Young-generation collections paced by bytes, for data paths that allocate a
 * fresh buffer per chunk (a block frame, a chunk of a NAR file). V8 frees
 * such buffers at its next collection, but starts a full one for them only
 * when external memory has grown 64 MB past its level at the last one
 * (`kExternalAllocationSoftLimit`, not configurable), so a fast transfer kept
 * 64–100 MB of dead buffers. A minor collection (a scavenge of the 1 MiB
 * young generation, well under a millisecond) every few dozen MiB frees the
 * ones that died young: the helper reading a 1 GiB NAR from the daemon's file
 * peaks at 105–114 MB instead of 133–145 (docs/benchmarks.md, issue 9). In the
 * daemon, whose heap promotes its buffers before they die, it changed nothing
 * measurable and is not used. `gc` exists only when
 * V8 runs with `--expose-gc` (bin/guix-p2p and `deno task compile` pass it);
 * without it, {@linkcode ByteGc} does nothing.
 *
 * @example
 * ```ts
 * import { ByteGc } from "./gc.ts";
 * const pace = new ByteGc(16 << 20);
 * pace.add(1 << 20); // after each chunk handled
 * ```
 * @module
 */

type Gc = (options?: { type: "minor" | "major" }) => void;

/** Runs a minor collection every `every` bytes counted with {@linkcode add}. */
export class ByteGc {
  #every: number;
  #since = 0;
  #gc: Gc | undefined = (globalThis as { gc?: Gc }).gc;

  /** Collects every `every` bytes. */
  constructor(every: number) {
    this.#every = every;
  }

  /** Counts `bytes` more; collects once `every` have been counted since the last time. */
  add(bytes: number): void {
    this.#since += bytes;
    if (this.#since < this.#every) return;
    this.#since = 0;
    this.#gc?.({ type: "minor" });
  }
}
