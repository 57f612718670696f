/**
 * The dashboard as a `(Request) => Promise<Response>` handler: the page, its
 * script and style, a read-only JSON API and a Server-Sent Events stream fed
 * by the daemon's typed events. It reads everything through a
 * {@linkcode DashboardSource} and an {@linkcode EventFeed}; serving it on a
 * socket is `deno_server.ts`'s job.
 *
 * Routes (GET only): `/`, `/app.js`, `/app.css`, `/favicon.svg`,
 * `/api/status`, `/api/peers?limit=N`, `/api/transfers`, `/api/seeds?limit=N`,
 * `/api/events?after=ID`, `/api/share-info`, `/api/stream` (SSE: `snapshot`
 * first, then `event`, `transfers`, `status`, `peers`, `seeds`, `share-info`).
 *
 * @example
 * ```ts
 * import { Dashboard } from "./app.ts";
 * using dashboard = new Dashboard({ source, events: bus });
 * const res = await dashboard.handle(new Request("http://127.0.0.1:6880/api/status"));
 * ```
 * @module
 */
import { APP_CSS } from "./assets/app_css.ts";
import { APP_JS } from "./assets/app_js.ts";
import { FAVICON_SVG } from "./assets/favicon_svg.ts";
import { INDEX_HTML } from "./assets/index_html.ts";
import { EventRing } from "./event_ring.ts";
import { fetchSiteAllowed, hostAllowed, SECURITY_HEADERS } from "./security.ts";
import type { DashboardSource, EventFeed } from "./source.ts";
import { SseHub } from "./sse.ts";
import { TransferTracker } from "./transfers.ts";

/** Options of {@linkcode Dashboard}. */
export interface DashboardOptions {
  source: DashboardSource;
  events: EventFeed;
  /** Accept only loopback Host values (true for a loopback bind; default true). */
  loopbackOnly?: boolean;
  /** Recent events kept (default 200). */
  eventRingSize?: number;
  /** Concurrent event streams (default 16). */
  maxStreams?: number;
  /** Unsent bytes per stream before it is dropped (default 1 MiB). */
  maxQueuedBytes?: number;
  /** Status and peers are pushed to streams this often, ms (default 2000). */
  statusIntervalMs?: number;
  /** Transfer changes are pushed at most this often, ms (default 250). */
  transfersIntervalMs?: number;
  /** Stream keep-alive interval, ms (default 15000). */
  heartbeatMs?: number;
}

/** Events aggregated into the transfer and peer views instead of being listed one by one. */
const AGGREGATED = new Set([
  "transfer:progress",
  "download:block",
  "download:whole",
  "block:served",
  "nar:served",
  "peer:latency", // shown in the peers panel
]);

/** Whether an event goes into the recent-events list. */
export function listedEvent(type: string, payload: unknown): boolean {
  if (AGGREGATED.has(type)) return false;
  if (type === "gateway:request") return ((payload as { status?: number }).status ?? 0) >= 500;
  return type !== "lookup:done" && type !== "control:error";
}

const LIST_DEFAULT = 200;
const LIST_MAX = 5000;

const ASSETS: Record<string, { body: string; type: string }> = {
  "/": { body: INDEX_HTML, type: "text/html; charset=utf-8" },
  "/app.js": { body: APP_JS, type: "text/javascript; charset=utf-8" },
  "/app.css": { body: APP_CSS, type: "text/css; charset=utf-8" },
  "/favicon.svg": { body: FAVICON_SVG, type: "image/svg+xml" },
};

/** The dashboard. Subscribes to the event feed at construction; {@linkcode close} unsubscribes. */
export class Dashboard {
  readonly ring: EventRing;
  readonly transfers = new TransferTracker();
  readonly hub: SseHub;
  #o: DashboardOptions;
  #off: () => void;
  #transfersDirty = false;
  #seedsDirty = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #statusTimer: ReturnType<typeof setInterval> | undefined;
  #lastShare = "";
  #closed = false;

  /** Creates the dashboard and starts recording events. */
  constructor(options: DashboardOptions) {
    this.#o = options;
    this.ring = new EventRing({ capacity: options.eventRingSize ?? 200 });
    this.hub = new SseHub({
      maxClients: options.maxStreams ?? 16,
      maxQueuedBytes: options.maxQueuedBytes ?? 1024 * 1024,
      heartbeatMs: options.heartbeatMs ?? 15_000,
    });
    this.#off = options.events.onAny((type, payload) => this.#onEvent(type, payload));
  }

  #onEvent(type: string, payload: unknown): void {
    if (this.transfers.handle(type, payload)) this.#transfersDirty = true;
    if (type.startsWith("seed:")) this.#seedsDirty = true;
    if (listedEvent(type, payload)) {
      const e = this.ring.push(type, payload);
      this.hub.broadcast("event", e, e.id);
    }
    if ((this.#transfersDirty || this.#seedsDirty) && this.hub.size > 0) this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#closed) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush().catch(() => {});
    }, this.#o.transfersIntervalMs ?? 250);
  }

  async #flush(): Promise<void> {
    if (this.#transfersDirty) {
      this.#transfersDirty = false;
      this.hub.broadcast("transfers", { transfers: this.transfers.list() });
    }
    if (this.#seedsDirty) {
      this.#seedsDirty = false;
      const seeds = await this.#seeds(LIST_DEFAULT).catch(() => undefined);
      if (seeds) this.hub.broadcast("seeds", seeds);
    }
  }

  async #tick(): Promise<void> {
    if (this.hub.size === 0) {
      clearInterval(this.#statusTimer);
      this.#statusTimer = undefined;
      return;
    }
    const [status, peers, share] = await Promise.allSettled([
      this.#o.source.status(),
      this.#peers(LIST_DEFAULT),
      this.#o.source.shareInfo(),
    ]);
    if (status.status === "fulfilled") this.hub.broadcast("status", status.value);
    if (peers.status === "fulfilled") this.hub.broadcast("peers", peers.value);
    if (share.status === "fulfilled") {
      const text = JSON.stringify(share.value);
      if (text !== this.#lastShare) {
        this.#lastShare = text;
        this.hub.broadcast("share-info", share.value);
      }
    }
  }

  async #peers(limit: number) {
    const all = await this.#o.source.peers();
    return { total: all.length, peers: all.slice(0, limit) };
  }

  async #seeds(limit: number) {
    const all = await this.#o.source.seeds();
    return {
      total: all.length,
      totalBytes: all.reduce((n, s) => n + s.narSize, 0),
      seeds: all.slice(0, limit),
    };
  }

  /** Answers one request. */
  handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (
      !hostAllowed(req.headers.get("host"), {
        loopbackOnly: this.#o.loopbackOnly ?? true,
      })
    ) {
      return text(
        403,
        "forbidden: the dashboard answers only requests for an IP address or localhost\n",
      );
    }
    if (req.method !== "GET") {
      return text(405, "method not allowed: the dashboard is read-only\n", { allow: "GET" });
    }
    if (!fetchSiteAllowed(req, path)) return text(403, "forbidden: cross-site request\n");
    const asset = ASSETS[path];
    if (asset) {
      return reply(200, asset.body, { "content-type": asset.type, "cache-control": "no-cache" });
    }
    try {
      switch (path) {
        case "/api/status":
          return json(await this.#o.source.status());
        case "/api/peers":
          return json(await this.#peers(limitOf(url)));
        case "/api/transfers":
          return json({ transfers: this.transfers.list() });
        case "/api/seeds":
          return json(await this.#seeds(limitOf(url)));
        case "/api/events": {
          const after = Number(url.searchParams.get("after") ?? 0);
          const events = this.ring.list(Number.isSafeInteger(after) ? after : 0);
          return json({ total: this.ring.total, events });
        }
        case "/api/share-info":
          return json(await this.#o.source.shareInfo());
        case "/api/stream":
          return await this.#stream();
        default:
          return json({ error: `no such page: ${path}` }, 404);
      }
    } catch (e) {
      return json({ error: (e as Error).message }, 503);
    }
  };

  async #stream(): Promise<Response> {
    if (this.#closed) return json({ error: "the dashboard is stopping" }, 503);
    // Not req.signal: Deno.serve cancels the body when the connection closes, which ends the client.
    const client = this.hub.connect();
    if (!client) {
      return json({ error: `too many event streams (${this.hub.maxClients})` }, 503, {
        "retry-after": "10",
      });
    }
    if (this.#statusTimer === undefined) {
      this.#statusTimer = setInterval(
        () => this.#tick().catch(() => {}),
        this.#o.statusIntervalMs ?? 2000,
      );
    }
    const [status, peers, seeds, share] = await Promise.allSettled([
      this.#o.source.status(),
      this.#peers(LIST_DEFAULT),
      this.#seeds(LIST_DEFAULT),
      this.#o.source.shareInfo(),
    ]);
    const value = <T>(r: PromiseSettledResult<T>) => r.status === "fulfilled" ? r.value : null;
    client.send("snapshot", {
      status: value(status),
      peers: value(peers),
      seeds: value(seeds),
      shareInfo: value(share),
      transfers: { transfers: this.transfers.list() },
      events: { total: this.ring.total, events: this.ring.list() },
    }, this.ring.total);
    return reply(200, client.stream, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
  }

  /** Stops recording events and ends every stream (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#off();
    clearTimeout(this.#flushTimer);
    clearInterval(this.#statusTimer);
    this.#statusTimer = undefined;
    this.hub.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function limitOf(url: URL): number {
  const n = Number(url.searchParams.get("limit") ?? LIST_DEFAULT);
  return Number.isSafeInteger(n) && n >= 0 ? Math.min(n, LIST_MAX) : LIST_DEFAULT;
}

function reply(status: number, body: BodyInit | null, headers: Record<string, string>): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, ...headers } });
}

function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return reply(status, JSON.stringify(value), {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    ...headers,
  });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return reply(status, body, { "content-type": "text/plain; charset=utf-8", ...headers });
}
