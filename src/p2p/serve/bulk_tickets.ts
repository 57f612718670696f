/**
 * One-time tickets that open a bulk lane (docs/protocol.md §3.7). A ticket is
 * issued on a peer's Noise-authenticated block stream, names that peer and
 * the address its connection came from, and opens at most one plain TCP
 * connection from that same address within `ttlMs`. Bounded: a few tickets
 * per peer, a few thousand in all (the oldest go first).
 *
 * @example
 * ```ts
 * import { BulkTickets } from "./bulk_tickets.ts";
 * const tickets = new BulkTickets<{ peer: string }>({ ttlMs: 30_000 });
 * const ticket = tickets.issue("10.0.0.7", { peer: "12D3KooW…" });
 * tickets.redeem(ticket, "10.0.0.7"); // { peer: "12D3KooW…" }
 * tickets.redeem(ticket, "10.0.0.7"); // undefined: used
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { BULK_TICKET_SIZE } from "../wire/mod.ts";

/** Options of {@linkcode BulkTickets}. */
export interface BulkTicketsInit {
  /** How long a ticket stays good. Default 30 s. */
  ttlMs?: number;
  /** Tickets kept in all (the oldest are dropped). Default 4096. */
  max?: number;
  /** Clock (tests). */
  now?: () => number;
}

interface Issued<T> {
  ip: string;
  expires: number;
  value: T;
}

/** Tickets, each good once, from one address, for a short time. */
export class BulkTickets<T> {
  #tickets = new Map<string, Issued<T>>();
  #ttl: number;
  #max: number;
  #now: () => number;

  /** Creates an empty book. */
  constructor(init: BulkTicketsInit = {}) {
    this.#ttl = init.ttlMs ?? 30_000;
    this.#max = init.max ?? 4096;
    this.#now = init.now ?? Date.now;
  }

  /** Tickets not yet used or expired. */
  get size(): number {
    return this.#tickets.size;
  }

  /** A new random ticket for a connection from `ip`, carrying `value`. */
  issue(ip: string, value: T): Uint8Array {
    const ticket = crypto.getRandomValues(new Uint8Array(BULK_TICKET_SIZE));
    const now = this.#now();
    for (const [k, t] of this.#tickets) {
      if (t.expires > now && this.#tickets.size < this.#max) break;
      this.#tickets.delete(k);
    }
    this.#tickets.set(hexEncode(ticket), { ip, expires: now + this.#ttl, value });
    return ticket;
  }

  /** The value of `ticket` if it is good for a connection from `ip`; it is used up either way. */
  redeem(ticket: Uint8Array, ip: string): T | undefined {
    if (ticket.length !== BULK_TICKET_SIZE) return undefined;
    const key = hexEncode(ticket);
    const t = this.#tickets.get(key);
    if (!t) return undefined;
    this.#tickets.delete(key);
    if (t.expires <= this.#now() || t.ip !== ip) return undefined;
    return t.value;
  }
}
