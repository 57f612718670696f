/**
 * What this node knows about other peers: addresses (re-dialled after a
 * restart), agent, latency, bytes up and down, and faults. A peer that
 * reaches `banThreshold` faults is banned for `banDuration`. Pure state with
 * a JSON snapshot; persistence is the caller's (see deno_peer_book.ts).
 *
 * @example
 * ```ts
 * const book = new PeerBook({ banThreshold: 3, banDurationMs: 86_400_000, maxPeers: 200 });
 * book.seen("12D3KooW…", ["/ip4/10.0.0.2/tcp/6881"]);
 * book.fault("12D3KooW…", "bad block"); // → { banned: false, faults: 1 }
 * ```
 * @module
 */

/** One peer's record. */
export interface PeerRecord {
  id: string;
  addresses: string[];
  agent?: string;
  latencyMs?: number;
  bytesUp: number;
  bytesDown: number;
  blocksUp: number;
  blocksDown: number;
  faults: number;
  lastFault?: string;
  bannedUntil?: number;
  lastSeen: number;
}

/** Options of {@linkcode PeerBook}. */
export interface PeerBookOptions {
  banThreshold: number;
  banDurationMs: number;
  maxPeers: number;
  now?: () => number;
}

/** The peer book. */
export class PeerBook {
  #peers = new Map<string, PeerRecord>();
  #o: PeerBookOptions;
  #now: () => number;
  #dirty = false;

  /** Creates an empty book. */
  constructor(options: PeerBookOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** True when something changed since the last {@linkcode snapshot}. */
  get dirty(): boolean {
    return this.#dirty;
  }

  #get(id: string): PeerRecord {
    let p = this.#peers.get(id);
    if (!p) {
      p = {
        id,
        addresses: [],
        bytesUp: 0,
        bytesDown: 0,
        blocksUp: 0,
        blocksDown: 0,
        faults: 0,
        lastSeen: this.#now(),
      };
      this.#peers.set(id, p);
      this.#trim();
    }
    return p;
  }

  /** Records that `id` was seen at `addresses` (most recent first). */
  seen(id: string, addresses: string[], agent?: string): void {
    const p = this.#get(id);
    if (addresses.length > 0) {
      p.addresses = [...new Set([...addresses, ...p.addresses])].slice(0, 8);
    }
    if (agent) p.agent = agent;
    p.lastSeen = this.#now();
    this.#dirty = true;
  }

  /** Records a ping round trip. */
  latency(id: string, ms: number): void {
    this.#get(id).latencyMs = Math.round(ms);
  }

  /** Counts bytes and blocks exchanged with `id`. */
  traffic(id: string, direction: "up" | "down", bytes: number): void {
    const p = this.#get(id);
    if (direction === "up") {
      p.bytesUp += bytes;
      p.blocksUp++;
    } else {
      p.bytesDown += bytes;
      p.blocksDown++;
    }
    this.#dirty = true;
  }

  /**
   * Records a fault (bad block, lying manifest...); bans at the threshold.
   * `weight` counts one fault as several (a flood is banned at once).
   */
  fault(id: string, reason: string, weight = 1): { banned: boolean; faults: number } {
    const p = this.#get(id);
    p.faults += Math.max(1, Math.floor(weight));
    p.lastFault = reason;
    this.#dirty = true;
    if (p.faults >= this.#o.banThreshold) {
      p.bannedUntil = this.#now() + this.#o.banDurationMs;
      return { banned: true, faults: p.faults };
    }
    return { banned: false, faults: p.faults };
  }

  /** True while `id` is banned. Expired bans are lifted (and the fault count reset). */
  isBanned(id: string): boolean {
    const p = this.#peers.get(id);
    if (!p?.bannedUntil) return false;
    if (p.bannedUntil > this.#now()) return true;
    delete p.bannedUntil;
    p.faults = 0;
    this.#dirty = true;
    return false;
  }

  /** A score for ranking providers: traffic served, minus faults, minus latency. */
  score(id: string): number {
    const p = this.#peers.get(id);
    if (!p) return 0;
    return Math.log2(1 + p.bytesDown / 1e6) - 5 * p.faults - (p.latencyMs ?? 50) / 100;
  }

  /** The record of `id`, if known. */
  get(id: string): PeerRecord | undefined {
    return this.#peers.get(id);
  }

  /** All records, most recently seen first. */
  list(): PeerRecord[] {
    return [...this.#peers.values()].sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** JSON-ready state (clears the dirty flag). */
  snapshot(): { v: 1; peers: PeerRecord[] } {
    this.#dirty = false;
    return { v: 1, peers: this.list() };
  }

  /** Loads a snapshot (invalid entries are skipped). */
  restore(snapshot: unknown): void {
    const peers = (snapshot as { peers?: unknown })?.peers;
    if (!Array.isArray(peers)) return;
    for (const raw of peers) {
      const r = raw as Partial<PeerRecord>;
      if (typeof r.id !== "string" || !Array.isArray(r.addresses)) continue;
      this.#peers.set(r.id, {
        id: r.id,
        addresses: r.addresses.filter((a): a is string => typeof a === "string").slice(0, 8),
        ...(typeof r.agent === "string" ? { agent: r.agent } : {}),
        bytesUp: num(r.bytesUp),
        bytesDown: num(r.bytesDown),
        blocksUp: num(r.blocksUp),
        blocksDown: num(r.blocksDown),
        faults: num(r.faults),
        ...(typeof r.bannedUntil === "number" ? { bannedUntil: r.bannedUntil } : {}),
        lastSeen: num(r.lastSeen),
      });
    }
    this.#trim();
  }

  #trim(): void {
    if (this.#peers.size <= this.#o.maxPeers) return;
    const drop = this.list().slice(this.#o.maxPeers).filter((p) => !p.bannedUntil);
    for (const p of drop) this.#peers.delete(p.id);
  }
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0;
}
