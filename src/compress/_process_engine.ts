/**
 * A {@linkcode DecodeEngine} that pipes the input through an external
 * decompressor (`lzip -dc`, `xz -dc`...). Backpressure comes from the pipes:
 * stdout is only read when our readable side is pulled, so a child that
 * inflates faster than the consumer reads blocks on its full stdout pipe,
 * stops reading stdin, and our writes wait. `destroy` kills the child.
 *
 * @example
 * ```ts
 * import { processEngine } from "./_process_engine.ts";
 * import { denoProcessRunner } from "./deno_process.ts";
 * const engine = processEngine(denoProcessRunner, {
 *   format: "xz", path: "/usr/bin/xz", args: ["-dc"],
 * });
 * ```
 * @module
 */
import type { DecodeEngine } from "./_engine_stream.ts";
import { DecompressionError } from "./errors.ts";
import type { ChildProcess, ProcessRunner, ProcessStatus } from "./process.ts";

/** How much of the child's stderr is kept for error messages. */
const STDERR_KEEP = 2048;
/** How long to wait for a child to exit once its pipes failed or closed, before killing it. */
const EXIT_GRACE_MS = 5000;

interface Running {
  child: ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  stdout: ReadableStreamDefaultReader<Uint8Array>;
  stderrDone: Promise<void>;
}

/** Which command {@linkcode processEngine} runs. */
export interface ProcessCommand {
  /** Format name for error messages. */
  format: string;
  /** Absolute path of the executable. */
  path: string;
  /** Arguments (the command reads stdin and writes stdout). */
  args: readonly string[];
  /**
   * Treat a zero exit as a failure when stderr matches (e.g. bzip2's "trailing
   * garbage after EOF ignored" warning).
   */
  failOnStderr?: RegExp;
}

/**
 * Returns an engine over the pipes of `command`, which is started on first
 * use. Errors name the command, its exit status and the start of its stderr.
 *
 * @example
 * ```ts
 * import { processEngine } from "./_process_engine.ts";
 * import { engineStream } from "./_engine_stream.ts";
 * import { denoProcessRunner } from "./deno_process.ts";
 * const bunzip2 = engineStream(
 *   processEngine(denoProcessRunner, { format: "bzip2", path: "/usr/bin/bzip2", args: ["-dc"] }),
 *   { format: "bzip2" },
 * );
 * ```
 */
export function processEngine(runner: ProcessRunner, command: ProcessCommand): DecodeEngine {
  const { format } = command;
  const label = [command.path.split("/").pop(), ...command.args].join(" ");
  let destroyed = false;
  let stderr = "";
  let running: Running | undefined;
  /** Starts the child on first use, so an unused stream leaves no process behind. */
  const start = (): Running => {
    if (running) return running;
    if (destroyed) {
      throw new DecompressionError(format, `\`${label}\` was not started: stream closed`);
    }
    const child = runner.spawn(command.path, command.args);
    const stdin = child.stdin.getWriter();
    const stdout = child.stdout.getReader();
    stdin.closed.catch(() => {});
    stdout.closed.catch(() => {});
    const stderrDone = (async () => {
      const reader = child.stderr.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (stderr.length < STDERR_KEEP) stderr += decoder.decode(value, { stream: true });
        }
      } catch {
        // the stream was cancelled or the child killed: keep what we have
      }
    })();
    running = { child, stdin, stdout, stderrDone };
    return running;
  };

  /** Waits (bounded) for the exit status and all of stderr. */
  const finished = async ({ child, stderrDone }: Running): Promise<ProcessStatus> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill();
        resolve();
      }, EXIT_GRACE_MS);
    });
    try {
      await Promise.race([Promise.all([child.status, stderrDone]), timeout]);
      return await child.status;
    } finally {
      clearTimeout(timer);
    }
  };
  const failure = async (run: Running, cause?: unknown): Promise<unknown> => {
    if (destroyed) return cause;
    const status = await finished(run);
    const how = status.signal !== null
      ? `was killed by ${status.signal}`
      : status.code === 0
      ? "exited with status 0"
      : `exited with status ${status.code}`;
    const text = stderr.slice(0, STDERR_KEEP).trim().replaceAll(/\s+/g, " ");
    const suffix = text === "" ? (cause instanceof Error ? `: ${cause.message}` : "") : `: ${text}`;
    return new DecompressionError(format, `\`${label}\` ${how}${suffix}`, { cause });
  };

  return {
    async write(chunk) {
      const run = start();
      try {
        await run.stdin.write(chunk);
      } catch (e) {
        throw await failure(run, e);
      }
    },
    async end() {
      const run = start();
      try {
        await run.stdin.close();
      } catch (e) {
        throw await failure(run, e);
      }
    },
    async read() {
      const run = start();
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await run.stdout.read();
      } catch (e) {
        throw await failure(run, e);
      }
      if (!result.done) return result.value;
      const status = await finished(run);
      if (
        status.code !== 0 || status.signal !== null ||
        (command.failOnStderr !== undefined && command.failOnStderr.test(stderr))
      ) {
        throw await failure(run);
      }
      return null;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (!running) return;
      running.child.kill();
      running.stdin.abort().catch(() => {});
      running.stdout.cancel().catch(() => {});
    },
  };
}
