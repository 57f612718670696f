/**
 * The Deno adapter of {@linkcode ProcessRunner}: `Deno.Command` with piped
 * standard streams, `PATH` look-ups through `Deno.statSync`. Needs
 * `--allow-run` for the decompressors it starts and `--allow-env=PATH` (plus
 * `--allow-read` on the `PATH` directories) for `which`.
 *
 * @example
 * ```ts
 * import { denoProcessRunner } from "./deno_process.ts";
 * const lzip = denoProcessRunner.which("lzip"); // "/usr/bin/lzip" or undefined
 * ```
 * @module
 */
import type { ChildProcess, ProcessRunner, ProcessStatus } from "./process.ts";

const found = new Map<string, string | undefined>();

/**
 * Finds `name` on `PATH` (cached per name for the life of the process).
 * Names containing `/` are checked as given.
 *
 * @example
 * ```ts
 * import { whichExecutable } from "./deno_process.ts";
 * whichExecutable("xz"); // "/usr/bin/xz"
 * ```
 */
export function whichExecutable(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  let result: string | undefined;
  const candidates = name.includes("/")
    ? [name]
    : (readPath() ?? "").split(":").filter((d) => d !== "").map((d) => `${d}/${name}`);
  for (const candidate of candidates) {
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) {
        result = candidate;
        break;
      }
    } catch {
      // missing or unreadable: try the next directory
    }
  }
  found.set(name, result);
  return result;
}

function readPath(): string | undefined {
  try {
    return Deno.env.get("PATH");
  } catch {
    return undefined; // no --allow-env=PATH: no external decompressors
  }
}

/**
 * Starts `path args...` with all standard streams piped.
 *
 * @example
 * ```ts
 * import { spawnProcess } from "./deno_process.ts";
 * const child = spawnProcess("/usr/bin/xz", ["-dc"]);
 * child.kill();
 * await child.status;
 * ```
 */
export function spawnProcess(path: string, args: readonly string[]): ChildProcess {
  const child = new Deno.Command(path, {
    args: [...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status: Promise<ProcessStatus> = child.status.then(
    (s) => {
      exited = true;
      return { code: s.code, signal: s.signal };
    },
    () => {
      exited = true;
      return { code: -1, signal: null };
    },
  );
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    status,
    kill() {
      if (exited) return;
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

/**
 * The process runner of the daemon.
 *
 * @example
 * ```ts
 * import { denoProcessRunner } from "./deno_process.ts";
 * import { decompressor } from "./mod.ts";
 * const lzip = decompressor("lzip", { engine: "external", processRunner: denoProcessRunner });
 * ```
 */
export const denoProcessRunner: ProcessRunner = {
  which: whichExecutable,
  spawn: spawnProcess,
};
