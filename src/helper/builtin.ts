/**
 * Guix's built-in substituter as a child process, driven the way
 * guix-daemon drives us: used in `builtin-first` routing (Guix first, the
 * daemon for what it lacks) and as the fall-back when the guix-p2p daemon
 * cannot be reached. The child is `$GUIX_P2P_GUIX_PROGRAM substitute MODE`
 * with GUIX_P2P_BYPASS=1 (so the extension hands over to the built-in code);
 * its fd 4 is a pipe back to us, its stdout and stderr go to our stderr (the
 * daemon's log pipe).
 *
 * @example
 * ```ts
 * const builtin = BuiltinSubstituter.fromEnv(Deno.env, "--query");
 * const lines = await builtin?.request("have /gnu/store/…-hello ");
 * ```
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A running built-in substituter. */
export class BuiltinSubstituter {
  #program: string;
  #mode: "--query" | "--substitute";
  #child: Deno.ChildProcess | undefined;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #reply: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #buffer = "";

  /** Wraps `program` (the `guix` command). */
  constructor(program: string, mode: "--query" | "--substitute") {
    this.#program = program;
    this.#mode = mode;
  }

  /** The built-in substituter named by GUIX_P2P_GUIX_PROGRAM, if any. */
  static fromEnv(
    env: { get(name: string): string | undefined },
    mode: "--query" | "--substitute",
  ): BuiltinSubstituter | undefined {
    const program = env.get("GUIX_P2P_GUIX_PROGRAM");
    return program ? new BuiltinSubstituter(program, mode) : undefined;
  }

  #spawn(): void {
    const child = new Deno.Command("sh", {
      args: ["-c", 'exec "$@" 4>&1 1>&2', "sh", this.#program, "substitute", this.#mode],
      env: { GUIX_P2P_BYPASS: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#reply = child.stdout.getReader();
    this.#buffer = "";
  }

  /** Sends one request line; resolves with the reply lines (query: up to the empty line; substitute: the status). */
  async request(line: string): Promise<string[]> {
    if (!this.#child) this.#spawn();
    try {
      await this.#stdin!.write(encoder.encode(line.endsWith("\n") ? line : `${line}\n`));
      const lines: string[] = [];
      for (;;) {
        const next = await this.#readLine();
        if (next === undefined) throw new Error("the built-in substituter exited");
        if (this.#mode === "--substitute") return [next];
        if (next === "") return lines;
        lines.push(next);
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async #readLine(): Promise<string | undefined> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const { done, value } = await this.#reply!.read();
      if (done) return undefined;
      this.#buffer += decoder.decode(value, { stream: true });
    }
  }

  /** Stops the child. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    await this.#stdin?.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch {
      // gone already
    }
    await child.status.catch(() => {});
    await this.#reply?.cancel().catch(() => {});
  }
}

/** Store paths answered by an `info` reply (records: path, deriver, N, N refs, download, nar size). */
export function infoPaths(lines: readonly string[]): { paths: string[]; records: string[][] } {
  const paths: string[] = [];
  const records: string[][] = [];
  let i = 0;
  while (i + 2 < lines.length) {
    const n = Number(lines[i + 2]);
    if (!Number.isSafeInteger(n) || n < 0) break;
    const record = lines.slice(i, i + 5 + n);
    if (record.length < 5 + n) break;
    paths.push(record[0]!);
    records.push(record);
    i += 5 + n;
  }
  return { paths, records };
}
