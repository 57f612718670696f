/**
 * What a program's entry point (the CLI, the daemon) is given of its process:
 * standard streams and environment as a {@linkcode CliIo} value, replaceable in
 * tests, and {@linkcode denoIo}, the real ones.
 *
 * @example
 * ```ts
 * import { denoIo } from "./io.ts";
 * denoIo().out("hello");
 * ```
 * @module
 */

/** Standard streams and environment as seen by a command (replaceable in tests). */
export interface CliIo {
  /** Writes a line (newline appended) to standard output. */
  out(line: string): void;
  /** Writes a line (newline appended) to standard error. */
  err(line: string): void;
  /** Raw standard output, for binary data (e.g. `nar dump`). */
  stdout: WritableStream<Uint8Array>;
  /** Raw standard input. */
  stdin: ReadableStream<Uint8Array>;
  /** Environment lookup. */
  env: { get(name: string): string | undefined };
  /**
   * Redraws a one-line progress display on standard error; present only when
   * standard error is a terminal (commands print nothing in between otherwise).
   */
  progress?: (line: string) => void;
}

const encoder = new TextEncoder();

function writeAllSync(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}

/** CliIo backed by Deno.stdout / Deno.stderr / Deno.stdin / Deno.env. */
export function denoIo(): CliIo {
  return {
    out: (line) => writeAllSync(Deno.stdout, encoder.encode(line + "\n")),
    err: (line) => writeAllSync(Deno.stderr, encoder.encode(line + "\n")),
    get stdout() {
      return Deno.stdout.writable;
    },
    get stdin() {
      return Deno.stdin.readable;
    },
    env: Deno.env,
    ...(Deno.stderr.isTerminal()
      ? {
        progress: (line: string) =>
          writeAllSync(Deno.stderr, encoder.encode(line === "" ? "\r\x1b[K" : `\r${line}\x1b[K`)),
      }
      : {}),
  };
}
