/**
 * A framed, bounded connection over any byte stream pair (a Unix socket in
 * practice). Reads are bounded by a stall timeout; writes respect
 * backpressure. No Deno APIs: the socket adapters wrap a `Deno.Conn`.
 *
 * @example
 * ```ts
 * import { FrameConnection } from "./connection.ts";
 * const conn = new FrameConnection(socket); // { readable, writable, close() }
 * await conn.sendMessage({ kind: "ok", id: 1 });
 * const frame = await conn.read({ timeoutMs: 5000 });
 * ```
 * @module
 */
import { dataHeader, DEFAULT_MAX_DATA, encodeMessage, type Frame, FrameDecoder } from "./codec.ts";
import { ControlConnectionError } from "./errors.ts";

/** The byte streams of a connection. */
export interface ByteDuplex {
  /** Incoming bytes. */
  readable: ReadableStream<Uint8Array>;
  /** Outgoing bytes. */
  writable: WritableStream<Uint8Array>;
  /** Closes both directions. */
  close(): void;
}

/** Options of {@linkcode FrameConnection.read}. */
export interface ReadOptions {
  /** Fail when no complete frame arrives within this many milliseconds. */
  timeoutMs?: number;
  /** Aborts the read. */
  signal?: AbortSignal;
}

/** Frames over a byte duplex. */
export class FrameConnection {
  #duplex: ByteDuplex;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #decoder: FrameDecoder;
  #closed = false;
  #label: string;
  #writeLock: Promise<void> = Promise.resolve();

  /** Wraps `duplex`; `label` names the peer in error messages. */
  constructor(
    duplex: ByteDuplex,
    options: { maxMessage?: number; maxData?: number; label?: string } = {},
  ) {
    this.#duplex = duplex;
    this.#reader = duplex.readable.getReader();
    this.#writer = duplex.writable.getWriter();
    this.#decoder = new FrameDecoder(options);
    this.#label = options.label ?? "control connection";
  }

  /** Reads the next frame; undefined at a clean end of stream. */
  async read(options: ReadOptions = {}): Promise<Frame | undefined> {
    for (;;) {
      const frame = this.#decoder.next();
      if (frame) return frame;
      const chunk = await this.#readChunk(options);
      if (chunk === undefined) {
        if (this.#decoder.buffered > 0) {
          throw new ControlConnectionError(
            `${this.#label}: connection closed in the middle of a frame`,
          );
        }
        return undefined;
      }
      this.#decoder.push(chunk);
    }
  }

  async #readChunk(options: ReadOptions): Promise<Uint8Array | undefined> {
    const { timeoutMs, signal } = options;
    signal?.throwIfAborted();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const guards: Promise<never>[] = [];
    if (timeoutMs !== undefined) {
      guards.push(
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new ControlConnectionError(`${this.#label}: no reply for ${timeoutMs / 1000} s`),
              ),
            timeoutMs,
          );
        }),
      );
    }
    if (signal) {
      guards.push(
        new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
        }),
      );
    }
    try {
      const result = await Promise.race([this.#reader.read(), ...guards]);
      return result.done ? undefined : result.value;
    } catch (e) {
      this.close();
      if (e instanceof ControlConnectionError || signal?.aborted) throw e;
      throw new ControlConnectionError(`${this.#label}: read failed: ${(e as Error).message}`, {
        cause: e,
      });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Sends a JSON message. */
  sendMessage(message: unknown): Promise<void> {
    return this.#locked(() => this.#write(encodeMessage(message)));
  }

  /** Sends NAR bytes as one or more data frames (never interleaved with other frames). */
  sendData(bytes: Uint8Array): Promise<void> {
    return this.#locked(async () => {
      for (let off = 0; off < bytes.length; off += DEFAULT_MAX_DATA) {
        const part = bytes.subarray(off, off + DEFAULT_MAX_DATA);
        await this.#write(dataHeader(part.length));
        await this.#write(part);
      }
    });
  }

  #locked(fn: () => Promise<void>): Promise<void> {
    const run = this.#writeLock.then(fn);
    this.#writeLock = run.catch(() => {});
    return run;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new ControlConnectionError(`${this.#label}: connection is closed`);
    try {
      await this.#writer.ready;
      await this.#writer.write(bytes);
    } catch (e) {
      this.close();
      throw new ControlConnectionError(`${this.#label}: write failed: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** True once closed (by either side or after an error). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.cancel().catch(() => {});
    this.#writer.abort().catch(() => {});
    try {
      this.#duplex.close();
    } catch {
      // already closed
    }
  }
}
