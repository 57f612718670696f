/**
 * The order in which wanted blocks are handed out: a permutation of the block
 * indexes sorted by rarity (number of peers that can serve the block, fewest
 * first) with ties in index order (or a fixed shuffled order), blocks nobody
 * can serve last; and a bit set over that order marking the blocks still
 * wanted (missing and not in flight), scanned a 32-bit word at a time. A
 * second tie order, shuffled by a caller's seed, can be chosen per rebuild.
 *
 * @example
 * ```ts
 * import { WantedOrder } from "./_order.ts";
 * const order = new WantedOrder(4, false);
 * order.rebuild(Uint16Array.of(2, 1, 0, 1), () => true, Infinity);
 * const seen: number[] = [];
 * order.scan((i) => (seen.push(i), false)); // seen = [1, 3, 0, 2]
 * ```
 * @module
 */

/** Rarity-sorted order of blocks with a wanted set. */
export class WantedOrder {
  readonly #n: number;
  /** Tie order: identity, or a fixed shuffle. */
  readonly #tie: Uint32Array;
  readonly #seed: number | undefined;
  /** Tie order shuffled by `#seed`, made on first use. */
  #seededTie: Uint32Array | undefined;
  #order: Uint32Array;
  #pos: Uint32Array;
  #bits: Uint32Array;
  #firstWord = 0;

  /**
   * `n` blocks; `shuffled` breaks rarity ties by a fixed pseudo-random order
   * instead of index order; `seed` gives the order {@linkcode rebuild} uses
   * when asked for seeded ties.
   */
  constructor(n: number, shuffled: boolean, seed?: number) {
    this.#n = n;
    this.#seed = seed;
    this.#tie = tieOrder(n, shuffled ? 0x9e3779b9 ^ n : undefined);
    this.#order = this.#tie.slice();
    this.#pos = new Uint32Array(n);
    for (let p = 0; p < n; p++) this.#pos[this.#order[p]!] = p;
    this.#bits = new Uint32Array(Math.ceil(n / 32));
  }

  /**
   * Re-sorts by `min(avail, cap)` (a counting sort: linear) and rebuilds the
   * wanted set from `wanted`. Blocks nobody has go last; `cap` 1 keeps index
   * order among the others. `seeded` breaks ties by the order shuffled by the
   * constructor's `seed` (when one was given).
   */
  rebuild(
    avail: Uint16Array,
    wanted: (i: number) => boolean,
    cap: number,
    seeded = false,
  ): void {
    const n = this.#n;
    const tie = seeded && this.#seed !== undefined ? this.#seededTies(this.#seed) : this.#tie;
    let maxKey = 0;
    const key = (i: number): number => {
      const a = avail[i]!;
      if (a === 0) return 0xffff;
      return a < cap ? a : cap;
    };
    for (let i = 0; i < n; i++) {
      const k = key(i);
      if (k !== 0xffff && k > maxKey) maxKey = k;
    }
    // Buckets 0..maxKey, then one for unavailable blocks.
    const counts = new Uint32Array(maxKey + 3);
    const bucket = (i: number): number => {
      const k = key(i);
      return k === 0xffff ? maxKey + 1 : k;
    };
    for (let i = 0; i < n; i++) counts[bucket(i) + 1]!++;
    for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
    const order = this.#order;
    for (let t = 0; t < n; t++) {
      const i = tie[t]!;
      order[counts[bucket(i)]!++] = i;
    }
    const bits = this.#bits;
    bits.fill(0);
    for (let p = 0; p < n; p++) {
      const i = order[p]!;
      this.#pos[i] = p;
      if (wanted(i)) bits[p >>> 5]! |= 1 << (p & 31);
    }
    this.#firstWord = 0;
  }

  #seededTies(seed: number): Uint32Array {
    return this.#seededTie ??= tieOrder(this.#n, seed);
  }

  /** Marks block `i` wanted. */
  add(i: number): void {
    const p = this.#pos[i]!;
    const w = p >>> 5;
    this.#bits[w]! |= 1 << (p & 31);
    if (w < this.#firstWord) this.#firstWord = w;
  }

  /** Marks block `i` not wanted. */
  remove(i: number): void {
    const p = this.#pos[i]!;
    this.#bits[p >>> 5]! &= ~(1 << (p & 31));
  }

  /**
   * Calls `visit` on each wanted block in reverse order (last first) until it
   * returns true. `visit` may remove the block it is given.
   */
  scanReverse(visit: (i: number) => boolean): void {
    const bits = this.#bits;
    const order = this.#order;
    for (let w = bits.length - 1; w >= this.#firstWord; w--) {
      let word = bits[w]!;
      while (word !== 0) {
        const b = 31 - Math.clz32(word);
        word ^= 1 << b;
        if (visit(order[(w << 5) + b]!)) return;
      }
    }
  }

  /**
   * Calls `visit` on each wanted block in order until it returns true. `visit`
   * may remove the block it is given (or any block already visited).
   */
  scan(visit: (i: number) => boolean): void {
    const bits = this.#bits;
    const order = this.#order;
    for (let w = this.#firstWord; w < bits.length; w++) {
      let word = bits[w]!;
      if (word === 0) {
        if (w === this.#firstWord) this.#firstWord = w + 1;
        continue;
      }
      while (word !== 0) {
        const low = word & -word;
        word ^= low;
        if (visit(order[(w << 5) + 31 - Math.clz32(low)]!)) return;
      }
    }
  }
}

/** Block indexes `0..n-1`, in index order or shuffled by `seed`. */
function tieOrder(n: number, seed: number | undefined): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  if (seed !== undefined) shuffle(a, seed);
  return a;
}

/** Fisher-Yates with a small xorshift generator (a fixed, reproducible order). */
function shuffle(a: Uint32Array, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = a.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
