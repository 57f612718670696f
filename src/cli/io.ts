/**
 * The process's real standard streams as a {@linkcode CliIo}.
 *
 * @example
 * ```ts
 * import { denoIo } from "./io.ts";
 * denoIo().out("hello");
 * ```
 * @module
 */
import type { CliIo } from "./command.ts";

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
