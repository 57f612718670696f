/**
 * Serves a {@linkcode Dashboard} over HTTP with `Deno.serve` on one
 * `HOST:PORT` (`dashboard_listen`). Stopping ends the event streams first, so
 * the server's graceful shutdown does not wait on them.
 *
 * @example
 * ```ts
 * import { DashboardServer } from "./deno_server.ts";
 * await using server = new DashboardServer({ listen: "127.0.0.1:6880", dashboard });
 * await server.start();
 * server.url; // "http://127.0.0.1:6880/"
 * ```
 * @module
 */
import type { Dashboard } from "./app.ts";
import { DashboardListenError } from "./errors.ts";

/** Options of {@linkcode DashboardServer}. */
export interface DashboardServerOptions {
  /** `HOST:PORT` (`[::1]:PORT` for IPv6; port 0 picks a free one). */
  listen: string;
  dashboard: Dashboard;
}

/** The HTTP server of the dashboard. */
export class DashboardServer {
  /** The page's URL once started, e.g. `http://127.0.0.1:6880/`. */
  url = "";
  #o: DashboardServerOptions;
  #server: Deno.HttpServer | undefined;

  /** Creates the server (call {@linkcode start}). */
  constructor(options: DashboardServerOptions) {
    this.#o = options;
  }

  /** Listens. @throws {DashboardListenError} when the address cannot be bound. */
  start(): Promise<void> {
    const { listen } = this.#o;
    const colon = listen.lastIndexOf(":");
    const hostname = listen.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(listen.slice(colon + 1));
    const ready = Promise.withResolvers<void>();
    try {
      this.#server = Deno.serve({
        hostname,
        port,
        onListen: (addr) => {
          const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
          this.url = `http://${host}:${addr.port}/`;
          ready.resolve();
        },
        onError: () => new Response("internal error\n", { status: 500 }),
      }, this.#o.dashboard.handle);
    } catch (e) {
      throw new DashboardListenError(listen, (e as Error).message);
    }
    return ready.promise;
  }

  /** Ends the event streams and stops listening (bounded: 2 s). */
  async stop(): Promise<void> {
    this.#o.dashboard.close();
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      server.shutdown().catch(() => {}),
      new Promise<void>((r) => timer = setTimeout(r, 2000)),
    ]);
    clearTimeout(timer);
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
