/**
 * A `CliIo` for driving CLI commands in-process in tests: it records the
 * lines written to `out` and `err` and the bytes written to `stdout`, and
 * feeds `stdin` and the environment it was given.
 *
 * @example
 * ```ts
 * import { recordingIo } from "./cli_io.ts";
 * const io = recordingIo({ env: { HOME: "/tmp" } });
 * io.out("hello");
 * io.outLines; // ["hello"]
 * ```
 * @module
 */
import type { CliIo } from "../../src/cli/command.ts";

/** What a {@linkcode recordingIo} recorded. */
export interface RecordingIo extends CliIo {
  /** Lines written with `out`. */
  outLines: string[];
  /** Lines written with `err`. */
  errLines: string[];
  /** Chunks written to `stdout`, copied. */
  bytes: Uint8Array[];
}

/** A recording `CliIo`; `stdin` is empty and the environment empty unless given. */
export function recordingIo(
  options: { env?: Record<string, string>; stdin?: string | ReadableStream<Uint8Array> } = {},
): RecordingIo {
  const { env = {}, stdin = "" } = options;
  const outLines: string[] = [];
  const errLines: string[] = [];
  const bytes: Uint8Array[] = [];
  return {
    outLines,
    errLines,
    bytes,
    out: (line) => void outLines.push(line),
    err: (line) => void errLines.push(line),
    stdout: new WritableStream({ write: (c) => void bytes.push(c.slice()) }),
    stdin: typeof stdin === "string" ? new Blob([stdin]).stream() : stdin,
    env: { get: (name) => env[name] },
  };
}
