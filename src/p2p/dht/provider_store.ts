/**
 * A bounded, indexed store of DHT provider records: records by key (so a
 * lookup touches only that key's providers, not every record), a count per
 * provider peer, and admission rules checked before anything is stored:
 *
 * - our own records are always kept (they are what we announce);
 * - a peer may hold at most `maxPerPeer` records and all other peers together
 *   at most `maxRecords` (expired records are dropped first when full);
 * - each peer adds records at most `ratePerSecond` on average, with bursts of
 *   `burst` (a token bucket): past the burst, records wait for a token (the
 *   sender is slowed down to the rate); a record that would wait longer than
 *   `maxWaitMs` (many streams flooding at once) is refused, and every
 *   `abuseEvery` refusals the peer is reported as flooding;
 * - a record is kept only when `isResponsible(key)` says this node is among
 *   the peers that should hold it.
 *
 * Pure (no I/O); the libp2p datastore adapter is `./datastore.ts`.
 *
 * @example
 * ```ts
 * const store = new ProviderStore({ self: "12D3KooWself", maxRecords: 1000, maxPerPeer: 100,
 *   ratePerSecond: 10, burst: 50, validityMs: 48 * 3600_000 });
 * store.admit("12D3KooWpeer"); // → { ok: true, waitMs: 0 }
 * store.add("cidkey", "12D3KooWpeer", Date.now()); // → { ok: true }
 * store.providers("cidkey"); // → [["12D3KooWpeer", <time>]]
 * ```
 * @module
 */

/** Why a record was refused. */
export type RefusalReason = "rate" | "peer-quota" | "total-quota" | "not-responsible";

/** The outcome of {@linkcode ProviderStore.add}. */
export type AddResult =
  | { ok: true }
  | { ok: false; reason: RefusalReason; abuse: boolean };

/** Options of {@linkcode ProviderStore}. */
export interface ProviderStoreOptions {
  /** This node's PeerId (its own records are never limited). */
  self: string;
  /** Records from other peers kept in all. */
  maxRecords: number;
  /** Records kept from one peer. */
  maxPerPeer: number;
  /** Sustained records per second accepted from one peer. */
  ratePerSecond: number;
  /** Records one peer may add at once before the rate applies. */
  burst: number;
  /** A record older than this is expired. */
  validityMs: number;
  /** Longest a record waits for a rate token before it is refused; default 500 ms. */
  maxWaitMs?: number;
  /** Rate refusals after which a peer is reported as flooding (again); default 10. */
  abuseEvery?: number;
  /** Whether this node should hold records for `key` (default: always). */
  isResponsible?: (key: string) => boolean;
  now?: () => number;
}

/** Counters of {@linkcode ProviderStore.stats}. */
export interface ProviderStoreStats {
  /** Records held, our own included. */
  records: number;
  /** Keys with at least one record. */
  keys: number;
  /** Peers (other than us) holding records. */
  peers: number;
  /** Records refused so far, by reason. */
  refused: Record<RefusalReason, number>;
}

type Resolved = Required<ProviderStoreOptions>;

interface PeerState {
  /** The peer's id: one string shared by all its records. */
  id: string;
  records: number;
  tokens: number;
  refill: number;
  refusals: number;
}

/** The provider record store. */
export class ProviderStore {
  #o: Resolved;
  /** key → (peer → creation time, ms). */
  #byKey = new Map<string, Map<string, number>>();
  #peers = new Map<string, PeerState>();
  #others = 0;
  #total = 0;
  #refused: Record<RefusalReason, number> = {
    "rate": 0,
    "peer-quota": 0,
    "total-quota": 0,
    "not-responsible": 0,
  };

  /** Creates an empty store. */
  constructor(options: ProviderStoreOptions) {
    this.#o = {
      maxWaitMs: 500,
      abuseEvery: 10,
      isResponsible: () => true,
      now: Date.now,
      ...options,
    };
  }

  /** Replaces the responsibility rule (set once the routing table exists). */
  set isResponsible(fn: (key: string) => boolean) {
    this.#o.isResponsible = fn;
  }

  /**
   * Takes one of `peer`'s rate tokens for a record: resolves how long to wait
   * before adding it (0 when a token is there; records beyond the burst are
   * spaced at the rate), or refuses when that wait would exceed `maxWaitMs`
   * (the peer sends much faster than the rate, on many streams at once).
   */
  admit(peer: string): { ok: true; waitMs: number } | Extract<AddResult, { ok: false }> {
    if (peer === this.#o.self) return { ok: true, waitMs: 0 };
    const state = this.#state(peer);
    const now = this.#o.now();
    state.tokens = Math.min(
      this.#o.burst,
      state.tokens + (now - state.refill) / 1000 * this.#o.ratePerSecond,
    );
    state.refill = now;
    const waitMs = state.tokens >= 1 ? 0 : (1 - state.tokens) / this.#o.ratePerSecond * 1000;
    if (waitMs > this.#o.maxWaitMs) {
      state.refusals++;
      return this.#refuse("rate", state.refusals % this.#o.abuseEvery === 0);
    }
    state.tokens--;
    return { ok: true, waitMs };
  }

  /** Adds (or refreshes) `peer`'s record for `key`, created at `time`, if admitted. */
  add(key: string, peer: string, time: number): AddResult {
    const existing = this.#byKey.get(key)?.get(peer);
    if (peer === this.#o.self || existing !== undefined) {
      this.#set(key, peer, time, existing);
      return { ok: true };
    }
    const state = this.#state(peer);
    if (!this.#o.isResponsible(key)) return this.#refuse("not-responsible", false);
    if (state.records >= this.#o.maxPerPeer) return this.#refuse("peer-quota", false);
    if (this.#others >= this.#o.maxRecords) {
      this.expire();
      if (this.#others >= this.#o.maxRecords) return this.#refuse("total-quota", false);
    }
    this.#set(key, peer, time, existing);
    return { ok: true };
  }

  /** The providers of `key` and their record times. */
  providers(key: string): [peer: string, time: number][] {
    return [...this.#byKey.get(key) ?? []];
  }

  /** The record time of `peer` for `key`, if held. */
  get(key: string, peer: string): number | undefined {
    return this.#byKey.get(key)?.get(peer);
  }

  /** Every record (the reprovider walks them hourly). */
  *all(): Generator<[key: string, peer: string, time: number]> {
    for (const [key, peers] of this.#byKey) {
      for (const [peer, time] of peers) yield [key, peer, time];
    }
  }

  /** Removes `peer`'s record for `key`. */
  delete(key: string, peer: string): void {
    const peers = this.#byKey.get(key);
    if (!peers?.delete(peer)) return;
    if (peers.size === 0) this.#byKey.delete(key);
    this.#total--;
    if (peer === this.#o.self) return;
    this.#others--;
    const state = this.#peers.get(peer);
    if (state) state.records--;
  }

  /** Drops expired records of other peers; returns how many. */
  expire(): number {
    const oldest = this.#o.now() - this.#o.validityMs;
    let n = 0;
    for (const [key, peer, time] of [...this.all()]) {
      if (peer !== this.#o.self && time < oldest) {
        this.delete(key, peer);
        n++;
      }
    }
    return n;
  }

  /** Counters for `status` and tests. */
  stats(): ProviderStoreStats {
    return {
      records: this.#total,
      keys: this.#byKey.size,
      peers: [...this.#peers.values()].filter((s) => s.records > 0).length,
      refused: { ...this.#refused },
    };
  }

  #state(peer: string): PeerState {
    let s = this.#peers.get(peer);
    if (!s) {
      s = { id: peer, records: 0, tokens: this.#o.burst, refill: this.#o.now(), refusals: 0 };
      this.#peers.set(peer, s);
      // Peers that hold nothing and have a full bucket carry no information.
      if (this.#peers.size > 4 * this.#o.maxRecords / Math.max(1, this.#o.maxPerPeer) + 1024) {
        for (const [p, st] of this.#peers) {
          if (st.records === 0 && p !== peer) this.#peers.delete(p);
        }
      }
    }
    return s;
  }

  #set(key: string, peer: string, time: number, existing: number | undefined): void {
    let peers = this.#byKey.get(key);
    if (!peers) this.#byKey.set(key, peers = new Map());
    if (existing !== undefined || peer === this.#o.self) {
      peers.set(peer, time);
      if (existing === undefined) this.#total++;
      return;
    }
    const state = this.#state(peer);
    peers.set(state.id, time);
    this.#total++;
    this.#others++;
    state.records++;
  }

  #refuse(reason: RefusalReason, abuse: boolean): Extract<AddResult, { ok: false }> {
    this.#refused[reason]++;
    return { ok: false, reason, abuse };
  }
}
