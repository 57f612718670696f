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
  /** Tickets kept per key (one peer's oldest are dropped first). Default 4. */
  maxPerKey?: number;
  /** Clock (tests). */
  now?: () => number;
}

interface Issued<T> {
  ip: string;
  expires: number;
  value: T;
  key: string | undefined;
}

/** Tickets, each good once, from one address, for a short time. */
export class BulkTickets<T> {
  #tickets = new Map<string, Issued<T>>();
  #byKey = new Map<string, string[]>();
  #ttl: number;
  #max: number;
  #maxPerKey: number;
  #now: () => number;

  /** Creates an empty book. */
  constructor(init: BulkTicketsInit = {}) {
    this.#ttl = init.ttlMs ?? 30_000;
    this.#max = init.max ?? 4096;
    this.#maxPerKey = init.maxPerKey ?? 4;
    this.#now = init.now ?? Date.now;
  }

  /** Tickets not yet used or expired. */
  get size(): number {
    return this.#tickets.size;
  }

  /**
   * A new random ticket for a connection from `ip`, carrying `value`; with `key` (the peer),
   * at most `maxPerKey` of that key's tickets are kept.
   */
  issue(ip: string, value: T, key?: string): Uint8Array {
    const ticket = crypto.getRandomValues(new Uint8Array(BULK_TICKET_SIZE));
    const now = this.#now();
    if (key !== undefined) {
      for (
        let mine = this.#byKey.get(key) ?? [];
        mine.length >= this.#maxPerKey;
        mine = this.#byKey.get(key) ?? []
      ) this.#drop(mine[0]!);
    }
    for (const [k, t] of this.#tickets) {
      if (t.expires > now && this.#tickets.size < this.#max) break;
      this.#drop(k);
    }
    const hex = hexEncode(ticket);
    this.#tickets.set(hex, { ip, expires: now + this.#ttl, value, key });
    if (key !== undefined) this.#byKey.set(key, [...(this.#byKey.get(key) ?? []), hex]);
    return ticket;
  }

  #drop(hex: string): void {
    const t = this.#tickets.get(hex);
    this.#tickets.delete(hex);
    if (t?.key === undefined) return;
    const rest = (this.#byKey.get(t.key) ?? []).filter((k) => k !== hex);
    if (rest.length > 0) this.#byKey.set(t.key, rest);
    else this.#byKey.delete(t.key);
  }

  /** The value of `ticket` if it is good for a connection from `ip`; it is used up either way. */
  redeem(ticket: Uint8Array, ip: string): T | undefined {
    if (ticket.length !== BULK_TICKET_SIZE) return undefined;
    const hex = hexEncode(ticket);
    const t = this.#tickets.get(hex);
    if (!t) return undefined;
    this.#drop(hex);
    if (t.expires <= this.#now() || t.ip !== ip) return undefined;
    return t.value;
  }
}
