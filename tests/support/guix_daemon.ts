/**
 * A guix-daemon emulator: spawns and drives a substituter exactly as
 * guix-daemon does (../shared/docs/guix-substitute-protocol.md §1, §10):
 *
 * - argv `[PROGRAM..., "--query" | "--substitute"]`, cwd `/`, a new session
 *   (`setsid`), the daemon's environment plus `_NIX_OPTIONS` (entries sorted by
 *   name, `name=value\n` each; `--substitute` adds an unterminated
 *   `deduplicate=yes|no`);
 * - stdin is the request pipe; stdout and stderr share one log pipe; fd 4 is a
 *   separate reply pipe (`sh -c 'exec "$@" 4>&1 1>&2'`);
 * - query mode reads fd 4 until an empty line and validates `info` records as
 *   the daemon does; substitute mode takes the first fd-4 chunk, up to the
 *   first newline, as the status (so split writes show up as they would in
 *   guix-daemon); log EOF means the substituter died (empty status);
 * - teardown closes stdin and immediately SIGKILLs the process group.
 *
 * @module
 */

/** How to start the substituter. */
export interface AgentOptions {
  /** Program and leading arguments, e.g. `["bin/guix-p2p-substitute"]`. */
  program: string[];
  /** Extra environment (merged over the current one). */
  env?: Record<string, string>;
  /** guix-daemon settings that go into `_NIX_OPTIONS`. */
  settings?: Record<string, string>;
  /** For `--substitute`: the deduplicate flag (default true, as guix-daemon). */
  deduplicate?: boolean;
  /** Store directory the daemon validates paths against (default /gnu/store). */
  storeDir?: string;
}

/** One parsed `info` record. */
export interface InfoRecord {
  path: string;
  deriver: string;
  references: string[];
  downloadSize: number;
  narSize: number;
}

/** The outcome of one substitution, as guix-daemon sees it. */
export interface SubstituteOutcome {
  /** The status (first fd-4 chunk up to the newline), "" on EOF. */
  status: string;
  /** True when the first chunk had no newline (a split write). */
  unterminated: boolean;
  /** Bytes that came on fd 4 after the status in the same chunk. */
  extra: string;
  /** True when the log pipe hit EOF (the process died). */
  died: boolean;
}

/** `_NIX_OPTIONS` as guix-daemon formats it. */
export function formatNixOptions(settings: Record<string, string>, deduplicate?: boolean): string {
  const body = Object.keys(settings).sort().map((k) => `${k}=${settings[k]}\n`).join("");
  return deduplicate === undefined ? body : `${body}deduplicate=${deduplicate ? "yes" : "no"}`;
}

const decoder = new TextDecoder();

/** A running substituter process driven like guix-daemon drives it. */
export class SubstituterAgent {
  readonly mode: "--query" | "--substitute";
  readonly child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #fd4: ReadableStreamDefaultReader<Uint8Array>;
  #fd4Buffer = new Uint8Array(0);
  #log: string[] = [];
  #logText = "";
  #logEnded: Promise<void>;
  #logDone = false;
  #logWaiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  #storeDir: string;
  #killed = false;

  private constructor(mode: "--query" | "--substitute", options: AgentOptions) {
    this.mode = mode;
    this.#storeDir = options.storeDir ?? "/gnu/store";
    const nixOptions = formatNixOptions(
      options.settings ?? {},
      mode === "--substitute" ? (options.deduplicate ?? true) : undefined,
    );
    const child = new Deno.Command("setsid", {
      args: ["sh", "-c", 'exec "$@" 4>&1 1>&2', "sh", ...options.program, mode],
      cwd: "/",
      env: { ...options.env, _NIX_OPTIONS: nixOptions },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.#stdin = child.stdin.getWriter();
    // Unlike guix-daemon we hold no copy of fd 4's write end, so fd-4 EOF also means "died".
    this.#fd4 = child.stdout.getReader();
    this.#logEnded = (async () => {
      for await (const chunk of child.stderr) {
        this.#logText += decoder.decode(chunk, { stream: true });
        const parts = this.#logText.split(/[\r\n]/);
        this.#logText = parts.pop()!;
        for (const line of parts.filter((l) => l !== "")) this.#pushLog(line);
      }
      if (this.#logText) this.#pushLog(this.#logText);
      this.#logDone = true;
    })();
  }

  /** Starts a `--query` process. */
  static query(options: AgentOptions): SubstituterAgent {
    return new SubstituterAgent("--query", options);
  }

  /** Starts a `--substitute` process. */
  static substitute(options: AgentOptions): SubstituterAgent {
    return new SubstituterAgent("--substitute", options);
  }

  /** Log lines seen so far (stdout and stderr, split on \n and \r). */
  get log(): readonly string[] {
    return this.#log;
  }

  #pushLog(line: string): void {
    this.#log.push(line);
    for (const w of [...this.#logWaiters]) {
      if (w.re.test(line)) {
        this.#logWaiters.splice(this.#logWaiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }

  /** Resolves with the first log line matching `re`, waiting up to `timeoutMs` for it. */
  waitForLog(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const found = this.#log.find((l) => re.test(l));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.#logWaiters.splice(this.#logWaiters.indexOf(waiter), 1);
        reject(
          new Error(
            `no log line matching ${re} within ${timeoutMs} ms; log:\n${this.#log.join("\n")}`,
          ),
        );
      }, timeoutMs);
      this.#logWaiters.push(waiter);
    });
  }

  /** True once the log pipe hit EOF. */
  get dead(): boolean {
    return this.#logDone;
  }

  /** Writes one raw request line (a newline is appended). */
  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  /** `have` with the daemon's formatting (sorted, trailing space). */
  async have(paths: string[], timeoutMs = 60_000): Promise<string[]> {
    await this.send(`have ${[...new Set(paths)].sort().join(" ")} `);
    const lines = await this.#readReplyLines(timeoutMs);
    for (const l of lines) this.#assertStorePath(l, "have reply");
    return lines;
  }

  /**
   * `info` with the daemon's formatting; reads and validates records the way
   * LocalStore::querySubstitutablePathInfos does: field by field (a record's
   * deriver line may be empty), until an empty *path* line.
   */
  async info(paths: string[], timeoutMs = 60_000): Promise<InfoRecord[]> {
    const requested = new Set(paths);
    await this.send(`info ${[...requested].sort().join(" ")} `);
    const deadline = Date.now() + timeoutMs;
    const next = () => this.#readLine(deadline);
    const int = async (what: string) => {
      const s = await next();
      if (!/^\d+$/.test(s)) throw new Error(`integer expected from stream: ${what} = "${s}"`);
      return Number(s);
    };
    const records: InfoRecord[] = [];
    const seen = new Set<string>();
    for (;;) {
      const path = await next();
      if (path === "") return records;
      if (!requested.has(path) || seen.has(path)) {
        throw new Error(`got unexpected path \`${path}' from substituter`);
      }
      seen.add(path);
      const deriver = await next();
      if (deriver !== "") this.#assertStorePath(deriver, "deriver");
      const n = await int("reference count");
      const references: string[] = [];
      for (let k = 0; k < n; k++) references.push(this.#assertStorePath(await next(), "reference"));
      const downloadSize = await int("download size");
      const narSize = await int("nar size");
      records.push({ path, deriver, references, downloadSize, narSize });
    }
  }

  /** Reads a query reply (lines up to the empty line) after a raw {@linkcode send}. */
  readReply(timeoutMs = 60_000): Promise<string[]> {
    return this.#readReplyLines(timeoutMs);
  }

  /** `substitute STORE DEST`; returns the status as guix-daemon would read it. */
  async substitute(
    storePath: string,
    dest: string,
    timeoutMs = 120_000,
  ): Promise<SubstituteOutcome> {
    await this.send(`substitute ${storePath} ${dest}`);
    return await this.readStatus(timeoutMs);
  }

  /** Reads the next status (first fd-4 chunk up to a newline), or "" if the log pipe ends first. */
  async readStatus(timeoutMs = 120_000): Promise<SubstituteOutcome> {
    if (this.#fd4Buffer.length > 0) {
      const chunk = this.#fd4Buffer;
      this.#fd4Buffer = new Uint8Array(0);
      return splitStatus(decoder.decode(chunk), false);
    }
    const chunk = await this.#raceFd4(timeoutMs);
    if (chunk === undefined) return { status: "", unterminated: false, extra: "", died: true };
    return splitStatus(decoder.decode(chunk), false);
  }

  /**
   * Closes stdin and waits up to `timeoutMs` for the process to exit by
   * itself (the helper exits 0 at EOF, writing e.g. a `--cpu-prof` profile),
   * then {@linkcode kill}s what is left.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.#killed) return;
    await this.#stdin.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.child.status,
      new Promise((r) => timer = setTimeout(r, timeoutMs)),
    ]);
    clearTimeout(timer);
    await this.kill();
  }

  /** Closes stdin and SIGKILLs the process group (guix-daemon's teardown). */
  async kill(): Promise<void> {
    if (this.#killed) return;
    this.#killed = true;
    await this.#stdin.close().catch(() => {});
    try {
      Deno.kill(-this.child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await this.child.status;
    await this.#fd4.cancel().catch(() => {});
    await this.#logEnded.catch(() => {});
  }

  /** Same as {@linkcode kill}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }

  async #readReplyLines(timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const lines: string[] = [];
    for (;;) {
      const line = await this.#readLine(deadline);
      if (line === "") return lines;
      lines.push(line);
    }
  }

  /** The next fd-4 line (the daemon reads fd 4 one byte at a time, so nothing is lost between requests). */
  async #readLine(deadline: number): Promise<string> {
    for (;;) {
      const nl = this.#fd4Buffer.indexOf(10);
      if (nl >= 0) {
        const line = decoder.decode(this.#fd4Buffer.subarray(0, nl));
        this.#fd4Buffer = this.#fd4Buffer.slice(nl + 1);
        return line;
      }
      const chunk = await this.#raceFd4(deadline - Date.now());
      if (chunk === undefined) {
        throw new Error(
          `\`${this.mode}' substituter died unexpectedly; log:\n${this.#log.join("\n")}`,
        );
      }
      const merged = new Uint8Array(this.#fd4Buffer.length + chunk.length);
      merged.set(this.#fd4Buffer);
      merged.set(chunk, this.#fd4Buffer.length);
      this.#fd4Buffer = merged;
    }
  }

  async #raceFd4(timeoutMs: number): Promise<Uint8Array | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const res = await Promise.race([
        this.#fd4.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `substituter: no reply on fd 4 within ${timeoutMs} ms; log:\n${
                    this.#log.join("\n")
                  }`,
                ),
              ),
            Math.max(0, timeoutMs),
          );
        }),
      ]);
      return res.done ? undefined : res.value;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  #assertStorePath(path: string, what: string): string {
    const base = path.slice(this.#storeDir.length + 1);
    if (!path.startsWith(this.#storeDir + "/") || base.includes("/") || base.length < 34) {
      throw new Error(`path \`${path}' (${what}) is not in the Nix store`);
    }
    return path;
  }
}

function splitStatus(text: string, died: boolean): SubstituteOutcome {
  const nl = text.indexOf("\n");
  if (nl < 0) return { status: text, unterminated: true, extra: "", died };
  return { status: text.slice(0, nl), unterminated: false, extra: text.slice(nl + 1), died };
}
