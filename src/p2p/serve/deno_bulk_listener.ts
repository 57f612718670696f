/**
 * The responder's end of the bulk lane (docs/protocol.md §3.7): a plain TCP
 * listener for block data. A peer asks for a lane on its Noise-authenticated
 * block stream and gets a port and a one-time ticket bound to its PeerId and
 * to the address its connection came from; it connects, sends
 * `GP2PBLK2` + ticket, and from then on the connection carries the block
 * exchange's requests and answers for that peer, served by the same
 * {@linkcode BlockServer} loop (same limits, same rate limiter, same bans).
 * A connection without a good ticket within `handshakeTimeoutMs` is closed;
 * handshakes in progress are bounded. Offered only where `allowed` says
 * (by default to peers on the local network) and never on relayed connections.
 *
 * @example
 * ```ts
 * const bulk = new BulkListener({ hosts: ["0.0.0.0"], port: 0, server, allowed: () => true, compress: () => false });
 * await bulk.start();
 * bulk.offer(connection); // { port, ticket } for this peer's next bulk connection
 * ```
 * @module
 */
import type { Connection } from "@libp2p/interface";
import { isRelayed } from "../nat/reachability.ts";
import { BULK_ACCEPTED, BULK_HELLO_MAGIC, BULK_TICKET_SIZE } from "../wire/mod.ts";
import type { BlockServer, BulkOffer, ServeChannel } from "./block_server.ts";
import { BulkTickets } from "./bulk_tickets.ts";
import { hostOfConnection, normalizeIp } from "../bulk_lane.ts";
import { closeQuietly, readExactly, writeAll } from "../_deno_tcp.ts";

/** Events of the bulk-lane listener. */
export interface BulkEvents {
  "bulk:listening": { port: number; hosts: string[] };
  "bulk:warning": { message: string };
}

/** Options of {@linkcode BulkListener}. */
export interface BulkListenerInit {
  /** Addresses to listen on (the hosts of the libp2p TCP listen addresses). */
  hosts: string[];
  /** TCP port; 0 picks a free one (the same one on every host where possible). */
  port: number;
  server: Pick<BlockServer, "serveChannel">;
  /** Whether a lane is offered on this connection (policy: local network, or every direct peer). */
  allowed: (connection: Connection) => boolean;
  /** Whether blocks on a lane for this connection are compressed. */
  compress: (connection: Connection) => boolean;
  /** A connection must present its ticket within this long. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** Handshakes in progress at most (more connections are closed at once). Default 64. */
  maxHandshakes?: number;
  emit?: <K extends keyof BulkEvents>(type: K, payload: BulkEvents[K]) => void;
}

/**
 * The hosts of the TCP addresses among libp2p `listen` multiaddrs (where the bulk lane listens).
 *
 * @example
 * ```ts
 * listenHosts(["/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"]); // ["0.0.0.0", "::"]
 * ```
 */
export function listenHosts(listen: string[]): string[] {
  const hosts = listen.map((a) => /^\/ip[46]\/([^/]+)\/tcp\/\d+$/.exec(a)?.[1])
    .filter((h): h is string => h !== undefined);
  return [...new Set(hosts)];
}

interface Grant {
  peer: string;
  compress: boolean;
}

/** The bulk-lane listener. */
export class BulkListener implements BulkOffer, AsyncDisposable {
  #o: BulkListenerInit;
  #tickets = new BulkTickets<Grant>();
  #listeners: Deno.TcpListener[] = [];
  #conns = new Set<Deno.TcpConn>();
  #handshakes = 0;
  #port: number | undefined;

  /** Creates the listener (call {@linkcode start}). */
  constructor(init: BulkListenerInit) {
    this.#o = init;
  }

  /** Connections that have not yet presented a ticket. */
  get handshakes(): number {
    return this.#handshakes;
  }

  /** The port it listens on, once started. */
  get port(): number | undefined {
    return this.#port;
  }

  /** Opens the listeners; a host that cannot be bound is skipped with a warning. */
  start(): Promise<void> {
    for (const hostname of [...new Set(this.#o.hosts)]) {
      const port = this.#port ?? this.#o.port;
      try {
        const listener = Deno.listen({ hostname, port, transport: "tcp" });
        this.#port ??= (listener.addr as Deno.NetAddr).port;
        this.#listeners.push(listener);
        void this.#accept(listener);
      } catch (e) {
        this.#o.emit?.("bulk:warning", {
          message: `bulk lane: cannot listen on ${hostname}:${port}: ${(e as Error).message}`,
        });
      }
    }
    if (this.#port !== undefined) {
      this.#o.emit?.("bulk:listening", { port: this.#port, hosts: this.#o.hosts });
    }
    return Promise.resolve();
  }

  /** Closes the listeners and every lane. */
  stop(): Promise<void> {
    for (const l of this.#listeners) closeQuietly(l);
    this.#listeners = [];
    for (const c of this.#conns) closeQuietly(c);
    this.#conns.clear();
    this.#port = undefined;
    return Promise.resolve();
  }

  /** Same as {@linkcode stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  offer(connection: Connection): { port: number; ticket: Uint8Array } | undefined {
    const address = connection.remoteAddr.toString();
    if (this.#port === undefined || isRelayed(address) || !this.#o.allowed(connection)) {
      return undefined;
    }
    const ip = hostOfConnection(address);
    if (!ip) return undefined;
    const grant = {
      peer: connection.remotePeer.toString(),
      compress: this.#o.compress(connection),
    };
    return { port: this.#port, ticket: this.#tickets.issue(ip, grant, grant.peer) };
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    try {
      for await (const conn of listener) {
        if (this.#handshakes >= (this.#o.maxHandshakes ?? 64)) {
          closeQuietly(conn);
          continue;
        }
        this.#conns.add(conn);
        // Nothing a peer sends on a lane may reject unhandled (that would stop the daemon).
        void this.#lane(conn).catch(() => {}).finally(() => {
          this.#conns.delete(conn);
          closeQuietly(conn);
        });
      }
    } catch {
      // closed by stop()
    }
  }

  async #lane(conn: Deno.TcpConn): Promise<void> {
    let grant: Grant | undefined;
    this.#handshakes++;
    try {
      const hello = await readExactly(
        conn,
        BULK_HELLO_MAGIC.length + BULK_TICKET_SIZE,
        this.#o.handshakeTimeoutMs ?? 5_000,
      );
      if (!hello || !BULK_HELLO_MAGIC.every((b, i) => hello[i] === b)) return;
      const ip = normalizeIp((conn.remoteAddr as Deno.NetAddr).hostname);
      grant = this.#tickets.redeem(hello.subarray(BULK_HELLO_MAGIC.length), ip);
      if (!grant) return;
      conn.setNoDelay(true);
      await writeAll(conn, new Uint8Array([BULK_ACCEPTED]), 5_000);
    } catch {
      return;
    } finally {
      this.#handshakes--;
    }
    await this.#o.server.serveChannel(connChannel(conn), grant.peer, grant.compress);
  }
}

/** A TCP connection as a {@linkcode ServeChannel}. */
export function connChannel(conn: Deno.Conn): ServeChannel {
  let closed = false;
  return {
    source: conn.readable,
    send: async (parts, signal, stallMs) => {
      for (const part of parts) {
        signal.throwIfAborted();
        await writeAll(conn, part, stallMs);
      }
    },
    abort: () => {
      if (!closed) closeQuietly(conn);
      closed = true;
    },
    close: async () => {
      if (closed) return;
      await conn.closeWrite().catch(() => {});
    },
  };
}
