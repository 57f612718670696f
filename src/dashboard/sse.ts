/**
 * Server-Sent Events fan-out with bounded memory: at most `maxClients`
 * streams; each client's unsent bytes are capped at `maxQueuedBytes`, and a
 * client that falls further behind (a stalled or very slow reader) is
 * dropped — its stream errors, which ends the HTTP response, and its queue is
 * freed. A comment line every `heartbeatMs` keeps idle connections alive and
 * finds dead ones. Pure web streams; no sockets.
 *
 * @example
 * ```ts
 * import { SseHub } from "./sse.ts";
 * const hub = new SseHub({ maxClients: 8 });
 * const client = hub.connect();
 * if (client) new Response(client.stream, { headers: { "content-type": "text/event-stream" } });
 * hub.broadcast("transfers", [{ id: 1, bytes: 42 }]);
 * ```
 * @module
 */

/** Options of {@linkcode SseHub}. */
export interface SseHubOptions {
  /** Concurrent clients (default 16). */
  maxClients?: number;
  /** Unsent bytes a client may accumulate before it is dropped (default 1 MiB). */
  maxQueuedBytes?: number;
  /** Interval of keep-alive comments, ms (default 15000; 0 disables them). */
  heartbeatMs?: number;
  /** Reconnection delay advertised to browsers, ms (default 2000). */
  retryMs?: number;
}

/** One connected client. */
export interface SseClient {
  /** The response body. */
  readonly stream: ReadableStream<Uint8Array>;
  /** Sends one event to this client only. */
  send(event: string, data: unknown, id?: number): void;
  /** Ends the stream. */
  close(): void;
}

const encoder = new TextEncoder();

/** Formats one event (`data` as one line of JSON). */
export function formatSse(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${
    JSON.stringify(data)
  }\n\n`;
}

interface Slot {
  controller: ReadableStreamDefaultController<Uint8Array>;
  done: boolean;
}

/** The hub. */
export class SseHub {
  readonly maxClients: number;
  readonly maxQueuedBytes: number;
  #heartbeatMs: number;
  #retryMs: number;
  #slots = new Set<Slot>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #dropped = 0;

  /** Creates a hub with no clients. */
  constructor(options: SseHubOptions = {}) {
    this.maxClients = options.maxClients ?? 16;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 1024 * 1024;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#retryMs = options.retryMs ?? 2000;
  }

  /** Connected clients. */
  get size(): number {
    return this.#slots.size;
  }

  /** Clients dropped for falling behind, so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * A new client, or undefined when `maxClients` are connected. The client ends when its stream
   * is cancelled (Deno.serve cancels a response body when the connection closes) or `signal` aborts.
   */
  connect(signal?: AbortSignal): SseClient | undefined {
    if (this.#slots.size >= this.maxClients || signal?.aborted) return undefined;
    let slot!: Slot;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        slot = { controller, done: false };
      },
      cancel: () => this.#remove(slot),
    }, new ByteLengthQueuingStrategy({ highWaterMark: this.maxQueuedBytes }));
    this.#slots.add(slot);
    signal?.addEventListener("abort", () => this.#end(slot), { once: true });
    this.#write(slot, `retry: ${this.#retryMs}\n\n`);
    if (this.#heartbeat === undefined && this.#heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs);
    }
    return {
      stream,
      send: (event, data, id) => this.#write(slot, formatSse(event, data, id)),
      close: () => this.#end(slot),
    };
  }

  /** Sends one event to every client. */
  broadcast(event: string, data: unknown, id?: number): void {
    if (this.#slots.size === 0) return;
    const text = formatSse(event, data, id);
    for (const slot of [...this.#slots]) this.#write(slot, text);
  }

  /** Ends every stream and stops the heartbeat. */
  close(): void {
    for (const slot of [...this.#slots]) this.#end(slot);
    this.#stopHeartbeat();
  }

  #beat(): void {
    for (const slot of [...this.#slots]) this.#write(slot, ": keep-alive\n\n");
  }

  #write(slot: Slot, text: string): void {
    if (slot.done) return;
    const bytes = encoder.encode(text);
    const room = slot.controller.desiredSize ?? 0;
    if (room < bytes.length && room < this.maxQueuedBytes) {
      // Behind by more than the cap: drop the client and free its queue.
      this.#dropped++;
      try {
        slot.controller.error(new Error("event stream client too slow"));
      } catch {
        // already closed
      }
      this.#remove(slot);
      return;
    }
    try {
      slot.controller.enqueue(bytes);
    } catch {
      this.#remove(slot); // the consumer went away
    }
  }

  #end(slot: Slot): void {
    if (!slot.done) {
      slot.done = true;
      try {
        slot.controller.close();
      } catch {
        // already closed or errored
      }
    }
    this.#remove(slot);
  }

  #remove(slot: Slot): void {
    slot.done = true;
    this.#slots.delete(slot);
    if (this.#slots.size === 0) this.#stopHeartbeat();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
