/**
 * The small process interface the external decompressors (`lzip -dc`,
 * `xz -dc`, `bzip2 -dc`...) run through. `deno_process.ts` implements it with
 * `Deno.Command`; tests may pass their own.
 *
 * @example
 * ```ts
 * import type { ProcessRunner } from "./process.ts";
 * function hasLzip(runner: ProcessRunner): boolean {
 *   return runner.which("lzip") !== undefined;
 * }
 * ```
 * @module
 */

/** How a child process ended. */
export interface ProcessStatus {
  /** Exit code; meaningless when `signal` is set. */
  code: number;
  /** Name of the signal that ended it (`"SIGKILL"`), or `null`. */
  signal: string | null;
}

/** A running child process with piped stdin, stdout and stderr. */
export interface ChildProcess {
  /** The child's standard input. */
  readonly stdin: WritableStream<Uint8Array>;
  /** The child's standard output. */
  readonly stdout: ReadableStream<Uint8Array>;
  /** The child's standard error. */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Settles once the child has exited (never rejects). */
  readonly status: Promise<ProcessStatus>;
  /** Sends SIGKILL unless the child has already exited. */
  kill(): void;
}

/** Starts processes and finds executables. */
export interface ProcessRunner {
  /** Absolute path of executable `name` found on `PATH`, or `undefined`. */
  which(name: string): string | undefined;
  /** Starts `path` with `args`, all three standard streams piped. */
  spawn(path: string, args: readonly string[]): ChildProcess;
}
