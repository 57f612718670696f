/**
 * The daemon side of the control protocol: accepts connections from a
 * listener, validates requests and dispatches them to a {@linkcode ControlHandler}.
 * Connections are capped; each serves one request at a time; a client that
 * goes away aborts its request; long requests get keep-alive `progress`
 * frames so the client's stall timeout only fires on a wedged daemon.
 *
 * @example
 * ```ts
 * const server = new ControlServer(listener, handler, { mapError });
 * server.start();
 * // ...
 * await server.stop();
 * ```
 * @module
 */
import type { FetchSink } from "../fetch/types.ts";
import { parseNarinfo } from "../narinfo/mod.ts";
import { SendBudget, SendQueue } from "./_send_queue.ts";
import { type ByteDuplex, FrameConnection } from "./connection.ts";
import { ControlProtocolError } from "./errors.ts";
import {
  type AdminCommand,
  type ErrorCode,
  type LookupItem,
  parseRequest,
  type Request,
} from "./messages.ts";

/** Per-request context. */
export interface RequestContext {
  /** Aborted when the client disconnects or the server stops. */
  signal: AbortSignal;
}

/** A `fetch` naming its NarHash and NarSize (a fetch by store path, once resolved). */
export type SignedFetch = Extract<Request, { kind: "fetch" }> & {
  narHash: string;
  narSize: number;
};

/** What the daemon implements. */
export interface ControlHandler {
  /** Resolves narinfos. */
  lookup(req: Extract<Request, { kind: "lookup" }>, ctx: RequestContext): Promise<LookupItem[]>;
  /** Streams a NAR into `sink`; resolves with the number of NAR bytes sent. */
  fetch(
    req: SignedFetch,
    sink: FetchSink,
    ctx: RequestContext,
  ): Promise<number>;
  /** Records a finished substitution. */
  substituted(req: Extract<Request, { kind: "substituted" }>, ctx: RequestContext): Promise<void>;
  /** A client found that the NAR it was given does not match its NarHash. */
  report(req: Extract<Request, { kind: "report" }>, ctx: RequestContext): Promise<void>;
  /** Runs an admin command. */
  admin(command: AdminCommand, args: string[], ctx: RequestContext): Promise<unknown>;
}

/** Maps a thrown error to a protocol error reply (the daemon's single mapping point). */
export type ErrorMapper = (error: unknown) => { code: ErrorCode; message: string };

/** A source of connections (a Unix listener in production). */
export interface ConnectionSource extends AsyncIterable<ByteDuplex> {
  /** Stops accepting. */
  close(): void;
}

/** Options of {@linkcode ControlServer}. */
export interface ControlServerOptions {
  /** Maps handler errors to replies. */
  mapError: ErrorMapper;
  /** Concurrent connections served; extra ones get a `busy` error and are closed. Default 128. */
  maxClients?: number;
  /** Interval of keep-alive frames during long requests. Default 5000 ms. */
  keepaliveMs?: number;
  /** A connection idle this long between requests is closed. Default 600000 ms. */
  idleTimeoutMs?: number;
  /** Called with errors that concern a single connection (for logging). */
  onConnectionError?: (error: unknown) => void;
  /**
   * NAR bytes a fetch may queue ahead of its socket (so the daemon keeps
   * decompressing while the client writes files). Default 4 MiB per fetch,
   * 16 MiB for all fetches together beyond 256 KiB each.
   */
  sendAhead?: { perFetch: number; total: number };
}

/** Serves control connections. */
export class ControlServer {
  #source: ConnectionSource;
  #handler: ControlHandler;
  #options:
    & Required<Omit<ControlServerOptions, "onConnectionError">>
    & Pick<ControlServerOptions, "onConnectionError">;
  #sendBudget: SendBudget;
  #connections = new Set<{ conn: FrameConnection; abort: AbortController }>();
  #accepting: Promise<void> | undefined;
  #stopped = false;

  /** Creates a server over `source`; call {@linkcode start}. */
  constructor(source: ConnectionSource, handler: ControlHandler, options: ControlServerOptions) {
    this.#source = source;
    this.#handler = handler;
    this.#options = {
      maxClients: 128,
      keepaliveMs: 5000,
      idleTimeoutMs: 600_000,
      sendAhead: { perFetch: 4 << 20, total: 16 << 20 },
      ...options,
    };
    this.#sendBudget = new SendBudget(this.#options.sendAhead.total);
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Starts accepting connections. */
  start(): void {
    if (this.#accepting) return;
    this.#accepting = (async () => {
      try {
        for await (const duplex of this.#source) {
          if (this.#stopped) {
            duplex.close();
            break;
          }
          this.#serve(duplex);
        }
      } catch (e) {
        if (!this.#stopped) this.#options.onConnectionError?.(e);
      }
    })();
  }

  /** Stops accepting, aborts running requests and closes every connection. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#source.close();
    for (const c of this.#connections) {
      c.abort.abort(new Error("daemon shutting down"));
      c.conn.close();
    }
    await this.#accepting;
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #serve(duplex: ByteDuplex): void {
    const conn = new FrameConnection(duplex, { label: "control client" });
    const entry = { conn, abort: new AbortController() };
    if (this.#connections.size >= this.#options.maxClients) {
      conn.sendMessage({
        kind: "error",
        id: 0,
        code: "busy",
        message: "too many control connections",
      })
        .catch(() => {}).finally(() => conn.close());
      return;
    }
    this.#connections.add(entry);
    this.#loop(entry).catch((e) => this.#options.onConnectionError?.(e)).finally(() => {
      entry.abort.abort(new Error("control client disconnected"));
      conn.close();
      this.#connections.delete(entry);
    });
  }

  async #loop(entry: { conn: FrameConnection; abort: AbortController }): Promise<void> {
    const { conn } = entry;
    for (;;) {
      const frame = await conn.read({
        timeoutMs: this.#options.idleTimeoutMs,
        signal: entry.abort.signal,
      });
      if (!frame) return;
      if (frame.kind !== "message") {
        throw new ControlProtocolError("clients may not send data frames");
      }
      let request: Request;
      try {
        request = parseRequest(frame.message);
      } catch (e) {
        const id = typeof (frame.message as { id?: unknown })?.id === "number"
          ? (frame.message as { id: number }).id
          : 0;
        await conn.sendMessage({
          kind: "error",
          id,
          code: "bad-request",
          message: (e as Error).message,
        });
        return;
      }
      await this.#dispatch(request, conn, entry.abort.signal);
    }
  }

  async #dispatch(request: Request, conn: FrameConnection, signal: AbortSignal): Promise<void> {
    const id = request.id;
    const ctx: RequestContext = { signal };
    let last = { transferred: 0, total: null as number | null };
    const keepalive = setInterval(() => {
      conn.sendMessage({ kind: "progress", id, ...last }).catch(() => {});
    }, this.#options.keepaliveMs);
    try {
      switch (request.kind) {
        case "lookup": {
          const items = await this.#handler.lookup(request, ctx);
          await conn.sendMessage({ kind: "lookup-result", id, items });
          break;
        }
        case "fetch": {
          let fetch: SignedFetch;
          if (request.narHash !== undefined && request.narSize !== undefined) {
            fetch = { ...request, narHash: request.narHash, narSize: request.narSize };
          } else {
            // Fetch by store path: the narinfo first (the client checks it), then its NAR.
            const [item] = await this.#handler.lookup({
              kind: "lookup",
              id,
              storePaths: [request.storePath],
              ...(request.urls ? { urls: request.urls } : {}),
              ...(request.policy ? { policy: request.policy } : {}),
            }, ctx);
            await conn.sendMessage({ kind: "lookup-result", id, items: [item!] });
            if (item?.kind !== "found") break;
            const signed = parseNarinfo(item.narinfo);
            fetch = { ...request, narHash: signed.narHash, narSize: signed.narSize };
          }
          const queue = new SendQueue(conn, {
            perQueue: this.#options.sendAhead.perFetch,
            minAhead: 256 << 10,
            budget: this.#sendBudget,
          });
          const sink: FetchSink = {
            source: (info) => queue.message({ kind: "source", id, ...info }),
            progress: (transferred, total) => {
              last = { transferred, total };
              return queue.message({ kind: "progress", id, transferred, total });
            },
            data: (bytes) => queue.data(bytes),
            ...(request.files
              ? {
                file: (info) => queue.message({ kind: "file", id, ...info }),
                available: (bytes) => queue.message({ kind: "available", id, bytes }),
              }
              : {}),
          };
          let bytes: number;
          try {
            bytes = await this.#handler.fetch(fetch, sink, ctx);
          } finally {
            await queue.drain().catch(() => {}); // nothing may follow queued frames out of order
          }
          await queue.drain();
          await conn.sendMessage({ kind: "done", id, bytes });
          break;
        }
        case "substituted":
          await this.#handler.substituted(request, ctx);
          await conn.sendMessage({ kind: "ok", id });
          break;
        case "report":
          await this.#handler.report(request, ctx);
          await conn.sendMessage({ kind: "ok", id });
          break;
        case "admin": {
          const value = await this.#handler.admin(request.command, request.args, ctx);
          await conn.sendMessage({ kind: "admin-result", id, value: value ?? null });
          break;
        }
      }
    } catch (e) {
      if (conn.closed || signal.aborted) throw e;
      const { code, message } = this.#options.mapError(e);
      await conn.sendMessage({ kind: "error", id, code, message });
    } finally {
      clearInterval(keepalive);
    }
  }
}
