/**
 * Real libgcrypt as a test oracle: spawns `tests/support/libgcrypt.py serve`
 * (python3 ctypes on libgcrypt.so.20) and sends it JSON requests, one per line.
 * Every request has a bounded timeout.
 *
 * @example
 * ```ts
 * import { Libgcrypt } from "./libgcrypt.ts";
 * await using gcry = await Libgcrypt.start();
 * const { public: pub, private: sec } = await gcry.genkey();
 * const { sig } = await gcry.sign(sec, "00".repeat(32));
 * ```
 * @module
 */

const SCRIPT = new URL("./libgcrypt.py", import.meta.url).pathname;
const TIMEOUT_MS = 20_000;

/** A reply from the oracle (fields depend on the operation). */
export interface GcryReply {
  ok: boolean;
  error?: string;
  code?: number;
  [key: string]: unknown;
}

/** A running libgcrypt oracle process. */
export class Libgcrypt {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#lines = readLines(child.stdout.pipeThrough(new TextDecoderStream()))
      [Symbol.asyncIterator]();
  }

  /** Starts the oracle and checks that it answers. */
  static async start(): Promise<Libgcrypt> {
    const child = new Deno.Command("python3", {
      args: [SCRIPT, "serve"],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const gcry = new Libgcrypt(child);
    const reply = await gcry.request({ op: "version" });
    if (!reply.ok) throw new Error(`libgcrypt oracle did not start: ${reply.error}`);
    return gcry;
  }

  /** Sends one request and waits (bounded) for its reply; requests are serialised. */
  request(req: Record<string, unknown>): Promise<GcryReply> {
    const run = async () => {
      await this.#writer.write(new TextEncoder().encode(JSON.stringify(req) + "\n"));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`libgcrypt oracle: no reply to ${req.op} in ${TIMEOUT_MS} ms`)),
          TIMEOUT_MS,
        );
      });
      try {
        const next = await Promise.race([this.#lines.next(), timeout]);
        if (next.done) throw new Error("libgcrypt oracle exited");
        return JSON.parse(next.value) as GcryReply;
      } finally {
        clearTimeout(timer);
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  /** libgcrypt's version string. */
  async version(): Promise<string> {
    return (await this.#must({ op: "version" })).version as string;
  }

  /** `gcry_pk_genkey` with Guix's parameters; returns the two key texts (advanced format). */
  async genkey(): Promise<{ public: string; private: string }> {
    const r = await this.#must({ op: "genkey" });
    return { public: r.public as string, private: r.private as string };
  }

  /**
   * `gcry_pk_sign` of `(data (flags rfc6979) (hash sha256 #HASH#))`; returns the
   * sig-val text and the r/s atoms' bytes in hex, exactly as stored.
   */
  async sign(privateKey: string, hashHex: string): Promise<{ sig: string; r: string; s: string }> {
    const r = await this.#must({ op: "sign", key: privateKey, hash: hashHex });
    return { sig: r.sig as string, r: r.r as string, s: r.s as string };
  }

  /** `gcry_pk_verify(sig, data, key)`: true when libgcrypt returns 0. */
  async verify(sig: string, data: string, key: string): Promise<{ valid: boolean; error: string }> {
    const r = await this.#must({ op: "verify", sig, data, key });
    return { valid: r.valid as boolean, error: r.error as string };
  }

  /** `gcry_sexp_new(autodetect)` then `gcry_sexp_sprint` in advanced and canonical form. */
  async sprint(input: Uint8Array): Promise<{ advanced: Uint8Array; canonical: Uint8Array }> {
    const r = await this.#must({ op: "sprint", input: toBase64(input) });
    return {
      advanced: fromBase64(r.advanced as string),
      canonical: fromBase64(r.canonical as string),
    };
  }

  /** Like {@linkcode sprint} but resolves to the error text when libgcrypt rejects the input. */
  async trySprint(input: Uint8Array): Promise<GcryReply> {
    return await this.request({ op: "sprint", input: toBase64(input) });
  }

  async #must(req: Record<string, unknown>): Promise<GcryReply> {
    const reply = await this.request(req);
    if (!reply.ok) throw new Error(`libgcrypt ${req.op}: ${reply.error}`);
    return reply;
  }

  /** Closes the oracle's stdin and waits (at most 5 s, then SIGKILL) for it to exit. */
  async close(): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // already closed
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000);
    try {
      await this.#child.status;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Same as {@linkcode close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function* readLines(stream: ReadableStream<string>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream) {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
