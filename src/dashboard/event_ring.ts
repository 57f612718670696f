/**
 * A bounded ring of recent events, each with an increasing id and a copy of
 * its payload cut to a size limit (payloads may carry peer-supplied text).
 * Pure; memory is at most `capacity × maxPayloadChars`, roughly.
 *
 * @example
 * ```ts
 * import { EventRing } from "./event_ring.ts";
 * const ring = new EventRing({ capacity: 2 });
 * ring.push("seed:added", { narHash: "sha256:…" });
 * ring.list(); // [{ id: 1, time: …, type: "seed:added", data: { narHash: "sha256:…" } }]
 * ```
 * @module
 */

/** One recorded event. */
export interface RecordedEvent {
  /** Increasing from 1. */
  id: number;
  /** Milliseconds since the epoch. */
  time: number;
  type: string;
  /** The payload (a copy), or `{ truncated: "<first characters of its JSON>" }`. */
  data: unknown;
}

/** Options of {@linkcode EventRing}. */
export interface EventRingOptions {
  /** Events kept (default 200). */
  capacity?: number;
  /** Longest payload JSON kept whole (default 2048 characters). */
  maxPayloadChars?: number;
  /** Clock (default Date.now). */
  now?: () => number;
}

/** The ring. */
export class EventRing {
  readonly capacity: number;
  readonly maxPayloadChars: number;
  #now: () => number;
  #items: RecordedEvent[] = [];
  #start = 0;
  #nextId = 1;

  /** Creates an empty ring. */
  constructor(options: EventRingOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 200);
    this.maxPayloadChars = Math.max(16, options.maxPayloadChars ?? 2048);
    this.#now = options.now ?? Date.now;
  }

  /** Records an event; returns the record. */
  push(type: string, payload: unknown): RecordedEvent {
    let json: string;
    try {
      json = JSON.stringify(payload) ?? "null";
    } catch {
      json = JSON.stringify(String(payload));
    }
    const data = json.length <= this.maxPayloadChars
      ? JSON.parse(json)
      : { truncated: `${json.slice(0, this.maxPayloadChars)}…` };
    const event: RecordedEvent = { id: this.#nextId++, time: this.#now(), type, data };
    if (this.#items.length < this.capacity) this.#items.push(event);
    else {
      this.#items[this.#start] = event;
      this.#start = (this.#start + 1) % this.capacity;
    }
    return event;
  }

  /** Events with an id above `after`, oldest first (at most `limit`, the newest ones). */
  list(after = 0, limit = this.capacity): RecordedEvent[] {
    const ordered = [...this.#items.slice(this.#start), ...this.#items.slice(0, this.#start)];
    const newer = ordered.filter((e) => e.id > after);
    return limit >= newer.length ? newer : newer.slice(newer.length - Math.max(0, limit));
  }

  /** Events recorded so far (including those that fell out of the ring). */
  get total(): number {
    return this.#nextId - 1;
  }
}
