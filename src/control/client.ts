/**
 * The client side of the control protocol, used by the substitute helper and
 * the admin CLI. One request at a time per connection; every reply is
 * validated (the helper does not trust the daemon) and every wait is bounded
 * by `stallTimeoutMs` — in a fetch, keep-alive progress frames that report
 * no new bytes do not extend it.
 *
 * @example
 * ```ts
 * import { ControlClient } from "./client.ts";
 * import { connectControlSocket } from "./deno_socket.ts";
 * const client = new ControlClient(await connectControlSocket("/run/guix-p2p/control.sock"));
 * const items = await client.lookup(["/gnu/store/…-hello-2.12"]);
 * client.close();
 * ```
 * @module
 */
import type { Policy, SourceKind } from "../fetch/types.ts";
import type { FrameConnection } from "./connection.ts";
import { ControlConnectionError, ControlProtocolError, ControlRemoteError } from "./errors.ts";
import { type AdminCommand, type LookupItem, parseResponse, type Response } from "./messages.ts";

/**
 * An event of a NAR fetch, in order: for a fetch by store path, first
 * `narinfo` (the last event when the item is missing); then `source`,
 * `data`/`progress`, possibly another `source` (resume at an offset), then
 * `done`.
 */
export type FetchEvent =
  | { kind: "narinfo"; item: LookupItem }
  | { kind: "source"; source: SourceKind; url: string; offset: number; size: number | null }
  | { kind: "progress"; transferred: number; total: number | null }
  | { kind: "file"; source: SourceKind; url: string; path: string }
  | { kind: "available"; bytes: number }
  | { kind: "data"; bytes: Uint8Array }
  | { kind: "done"; bytes: number };

/** Parameters of a fetch. */
export interface FetchParams {
  /** The store path being substituted. */
  storePath: string;
  /**
   * Its signed NarHash (`sha256:<nix32>`) and NarSize, both or neither:
   * without them the daemon resolves the path and the first event is its
   * `narinfo` (one round trip instead of a `lookup` and a `fetch`).
   */
  narHash?: string;
  /** Its signed NarSize (with `narHash`). */
  narSize?: number;
  /** Substitute URLs to use (from guix-daemon's options), if any. */
  urls?: string[];
  /** Policy override (from the extension's routing). */
  policy?: Policy;
  /** The client reads NARs from files the daemon names (see `file` events). */
  files?: boolean;
}

/** Client of the daemon's control socket. */
export class ControlClient {
  #conn: FrameConnection;
  #nextId = 1;
  #busy = false;
  #stallTimeoutMs: number;

  /** Wraps a connected {@linkcode FrameConnection}. */
  constructor(conn: FrameConnection, options: { stallTimeoutMs?: number } = {}) {
    this.#conn = conn;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  }

  /** True when the connection can no longer be used. */
  get closed(): boolean {
    return this.#conn.closed;
  }

  /** Looks up narinfos for `storePaths` (the daemon returns signed text; the caller verifies it). */
  async lookup(
    storePaths: string[],
    options: { urls?: string[]; policy?: Policy; signal?: AbortSignal } = {},
  ): Promise<LookupItem[]> {
    const reply = await this.#request({
      kind: "lookup",
      storePaths,
      ...(options.urls ? { urls: options.urls } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
    }, options.signal);
    if (reply.kind !== "lookup-result") throw unexpected(reply);
    return reply.items;
  }

  /** Fetches a NAR; yields events until `done`. Throws {@linkcode ControlRemoteError} on a daemon error. */
  async *fetch(
    params: FetchParams,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<FetchEvent> {
    const id = this.#begin();
    // A stall is no new byte (data, a new source or file, more available, or progress with
    // more bytes) for stallTimeoutMs of *waiting*: keep-alives repeating the same count do
    // not count, and neither does the time the consumer spends between frames (restoring a
    // large file it reads itself takes as long as it takes).
    let silentMs = 0;
    let transferred = -1;
    let available = -1;
    try {
      await this.#conn.sendMessage({ kind: "fetch", id, ...params });
      for (;;) {
        const stalled = () =>
          new ControlConnectionError(
            `the daemon sent no NAR data for ${this.#stallTimeoutMs / 1000} s (only keep-alives)`,
          );
        const left = this.#stallTimeoutMs - silentMs;
        if (left <= 0) throw stalled();
        let frame;
        const waitStart = Date.now();
        try {
          frame = await this.#readFrame(options.signal, left);
        } catch (e) {
          // The read timed out at the end of the stall window.
          const quiet = silentMs + (Date.now() - waitStart) >= this.#stallTimeoutMs;
          throw e instanceof ControlConnectionError && quiet && left < this.#stallTimeoutMs
            ? stalled()
            : e;
        }
        silentMs += Date.now() - waitStart;
        if (frame.kind === "data") {
          silentMs = 0;
          yield { kind: "data", bytes: frame.bytes };
          continue;
        }
        const msg = this.#check(parseResponse(frame.message), id);
        if (msg.kind === "source" || msg.kind === "file") {
          silentMs = 0;
          transferred = -1; // a new source counts its bytes from its own start
        }
        if (msg.kind === "progress" && msg.transferred > transferred) {
          transferred = msg.transferred;
          silentMs = 0;
        }
        if (msg.kind === "available" && msg.bytes > available) {
          available = msg.bytes;
          silentMs = 0;
        }
        switch (msg.kind) {
          case "lookup-result": {
            const item = msg.items[0];
            if (
              params.narHash !== undefined || msg.items.length !== 1 ||
              item!.storePath !== params.storePath
            ) throw unexpected(msg);
            silentMs = 0;
            yield { kind: "narinfo", item: item! };
            if (item!.kind !== "found") return; // nothing follows
            break;
          }
          case "source":
            yield {
              kind: "source",
              source: msg.source,
              url: msg.url,
              offset: msg.offset,
              size: msg.size,
            };
            break;
          case "progress":
            yield { kind: "progress", transferred: msg.transferred, total: msg.total };
            break;
          case "file":
            yield { kind: "file", source: msg.source, url: msg.url, path: msg.path };
            break;
          case "available":
            yield { kind: "available", bytes: msg.bytes };
            break;
          case "done":
            yield { kind: "done", bytes: msg.bytes };
            return;
          default:
            throw unexpected(msg);
        }
      }
    } catch (e) {
      // A fetch abandoned midway leaves frames in flight: the connection is not reusable.
      if (!(e instanceof ControlRemoteError)) this.#conn.close();
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Tells the daemon a path was substituted (for auto-seeding). `onSent` is
   * called once the message is written to the socket: from then on the
   * daemon receives it even if this process is killed, so a caller need not
   * wait for the reply before going on (it must still await this promise
   * before the next request on this client).
   */
  async substituted(
    info: { storePath: string; narHash: string; narSize: number; source: SourceKind },
    options: { signal?: AbortSignal; onSent?: () => void } = {},
  ): Promise<void> {
    const reply = await this.#request(
      { kind: "substituted", ...info },
      options.signal,
      options.onSent,
    );
    if (reply.kind !== "ok") throw unexpected(reply);
  }

  /** Tells the daemon the NAR of `storePath` it was given did not match its NarHash. */
  async report(
    info: { storePath: string; narHash: string; outcome: "hash-mismatch" },
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const reply = await this.#request({ kind: "report", ...info }, options.signal);
    if (reply.kind !== "ok") throw unexpected(reply);
  }

  /** Runs an admin command; resolves to its JSON result. */
  async admin(
    command: AdminCommand,
    args: string[] = [],
    options: { signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const reply = await this.#request({ kind: "admin", command, args }, options.signal);
    if (reply.kind !== "admin-result") throw unexpected(reply);
    return reply.value;
  }

  /** Closes the connection. */
  close(): void {
    this.#conn.close();
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.close();
  }

  #begin(): number {
    if (this.#busy) throw new Error("ControlClient: one request at a time");
    this.#busy = true;
    return this.#nextId++;
  }

  async #request(
    body: Record<string, unknown>,
    signal?: AbortSignal,
    onSent?: () => void,
  ): Promise<Response> {
    const id = this.#begin();
    try {
      await this.#conn.sendMessage({ ...body, id });
      onSent?.();
      for (;;) {
        const frame = await this.#readFrame(signal);
        if (frame.kind === "data") {
          throw new ControlProtocolError("unexpected data frame outside a fetch");
        }
        const msg = this.#check(parseResponse(frame.message), id);
        if (msg.kind === "progress") continue; // keep-alive while the daemon works
        return msg;
      }
    } catch (e) {
      if (!(e instanceof ControlRemoteError)) this.#conn.close();
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  async #readFrame(signal?: AbortSignal, timeoutMs = this.#stallTimeoutMs) {
    const frame = await this.#conn.read({
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    if (!frame) throw new ControlConnectionError("the daemon closed the control connection");
    return frame;
  }

  #check(msg: Response, id: number): Response {
    // id 0 marks connection-level errors (e.g. "busy") sent before any request was read.
    if (msg.kind === "error" && (msg.id === id || msg.id === 0)) {
      throw new ControlRemoteError(msg.code, msg.message);
    }
    if (msg.id !== id) {
      throw new ControlProtocolError(`reply for request ${msg.id} while waiting for ${id}`);
    }
    return msg;
  }
}

function unexpected(msg: Response): ControlProtocolError {
  return new ControlProtocolError(`unexpected "${msg.kind}" reply`);
}
