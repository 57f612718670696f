/**
 * What the sweep provider announces and when: the keys a node provides, each
 * with its place in the keyspace and when it was last sent. Once per
 * reprovide interval a cursor moves over the whole keyspace; the keys it
 * passes are due (unless sent less than half an interval ago: a key that was
 * just announced as new waits for the next pass, which still comes within
 * 1.5 intervals, well inside the 48 h record validity). Keys added since the
 * last pass are announced at once, as a batch of their own.
 *
 * Pure: time comes from the caller.
 *
 * @example
 * ```ts
 * const s = new SweepSchedule({ intervalMs: 12 * 3600_000, start: 0 });
 * s.add(narHash);
 * s.takeFresh(); // [the new key]
 * s.due(6 * 3600_000); // keys in the first half of the keyspace not sent in the last 6 h
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { narCid } from "../content_key.ts";
import { kadIdOf, keyspacePosition, type RegionKey } from "./regions.ts";

/** One provided key. */
export interface ProvidedKey extends RegionKey {
  /** NarHash, hex (the key's name in events and in `unprovide`). */
  hex: string;
  narHash: Uint8Array;
  /** {@linkcode keyspacePosition} of its kad ID. */
  position: number;
  /** When it was last sent (ms; -Infinity: never). */
  sentAt: number;
}

/** Options of {@linkcode SweepSchedule}. */
export interface SweepScheduleOptions {
  /** The reprovide interval: one pass over the keyspace. */
  intervalMs: number;
  /** Time of the first pass's start (ms). */
  start: number;
}

/** The schedule. */
export class SweepSchedule {
  readonly intervalMs: number;
  #keys = new Map<string, ProvidedKey>();
  #fresh = new Set<string>();
  #start: number;
  /** Cursor of the pass (keyspace fraction) as of `#at`. */
  #cursor = 0;
  #at: number;

  /** Creates an empty schedule. */
  constructor(options: SweepScheduleOptions) {
    if (!(options.intervalMs > 0)) {
      throw new RangeError(`SweepSchedule: intervalMs must be > 0, got ${options.intervalMs}`);
    }
    this.intervalMs = options.intervalMs;
    this.#start = options.start;
    this.#at = options.start;
  }

  /** Keys provided. */
  get size(): number {
    return this.#keys.size;
  }

  /** Whether `hex` is provided. */
  has(hex: string): boolean {
    return this.#keys.has(hex);
  }

  /** The provided key `hex`, if any. */
  get(hex: string): ProvidedKey | undefined {
    return this.#keys.get(hex);
  }

  /** All provided keys. */
  keys(): IterableIterator<ProvidedKey> {
    return this.#keys.values();
  }

  /** Provides `narHash` (32 bytes); returns the new key, or undefined if already provided. */
  add(narHash: Uint8Array): ProvidedKey | undefined {
    const hex = hexEncode(narHash);
    if (this.#keys.has(hex)) return undefined;
    const multihash = narCid(narHash).multihash.bytes;
    const kadId = kadIdOf(multihash);
    const key: ProvidedKey = {
      hex,
      narHash: narHash.slice(),
      multihash,
      kadId,
      position: keyspacePosition(kadId),
      sentAt: -Infinity,
    };
    this.#keys.set(hex, key);
    this.#fresh.add(hex);
    return key;
  }

  /** Stops providing `hex`; returns whether it was provided. */
  remove(hex: string): boolean {
    this.#fresh.delete(hex);
    return this.#keys.delete(hex);
  }

  /** Marks every key as new (to announce them all again, e.g. after a restart). */
  markAllFresh(): void {
    for (const hex of this.#keys.keys()) this.#fresh.add(hex);
  }

  /** Marks `hex` as new again (to announce it with the next batch of new keys). */
  markFresh(hex: string): void {
    if (this.#keys.has(hex)) this.#fresh.add(hex);
  }

  /** Keys added since the last call (to announce now). */
  takeFresh(): ProvidedKey[] {
    const out: ProvidedKey[] = [];
    for (const hex of this.#fresh) {
      const k = this.#keys.get(hex);
      if (k) out.push(k);
    }
    this.#fresh.clear();
    return out;
  }

  /** Where the pass's cursor is at `now` (keyspace fraction in [0, 1)). */
  cursorAt(now: number): number {
    const t = (now - this.#start) / this.intervalMs;
    return t - Math.floor(t);
  }

  /**
   * Moves the cursor to `now` and returns the keys it passed since the last
   * call (in keyspace order), except keys sent less than half an interval
   * ago. A call more than an interval after the last one covers the whole
   * keyspace once.
   */
  due(now: number): ProvidedKey[] {
    const elapsed = now - this.#at;
    if (elapsed <= 0) return [];
    const from = this.#cursor;
    const to = this.cursorAt(now);
    this.#at = now;
    this.#cursor = to;
    const whole = elapsed >= this.intervalMs;
    const passed = (p: number) => whole || (from <= to ? p >= from && p < to : p >= from || p < to);
    const recent = now - this.intervalMs / 2;
    const out: ProvidedKey[] = [];
    for (const k of this.#keys.values()) {
      if (passed(k.position) && k.sentAt <= recent && !this.#fresh.has(k.hex)) out.push(k);
    }
    return out.sort((a, b) => a.position - b.position);
  }

  /** Records that `keys` were sent at `now`. */
  markSent(keys: Iterable<ProvidedKey>, now: number): void {
    for (const k of keys) k.sentAt = now;
  }
}
