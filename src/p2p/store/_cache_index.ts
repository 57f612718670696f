/**
 * The block cache's index: one append-only journal (`index.jsonl`, a JSON
 * record per line) for every entry's layout and state, instead of a state
 * file rewritten per entry. Changes are batched: entries marked dirty are
 * written together, one append per second at most (or when asked). A record
 * cut short by a crash is skipped at load; the journal is rewritten (to a
 * temporary file, then renamed) at load and whenever it has grown well past
 * what it describes.
 *
 * Records: `{"k":"put","h":hex,"n":narSize,"b":blockSize,"x":hashes}` (the
 * layout, once per entry), `{"k":"st","h":hex,"have":…,"v":verified,"p":
 * storePath,"t":lastUsed}` (its state; the last one counts) and
 * `{"k":"del","h":hex}` (removed).
 *
 * @example
 * ```ts
 * const index = new CacheIndex("/var/cache/guix-p2p/blocks/index.jsonl");
 * const records = await index.load();
 * index.dirty(entry); // written with the next batch
 * await index.flush();
 * ```
 * @module
 */
import { base64Decode, base64Encode } from "../../encoding/base64.ts";
import { bitBytes } from "./_bits.ts";

/** What the index knows of an entry. */
export interface IndexRecord {
  hex: string;
  narSize: number;
  blockSize: number;
  hashes: Uint8Array;
  have: Uint8Array;
  verified: boolean;
  storePath: string | undefined;
  lastUsed: number;
}

/** What the index reads of an entry when it writes it. */
export interface IndexedEntry {
  readonly hex: string;
  readonly layout: { narSize: number; blockSize: number; hashes: Uint8Array };
  haveBits(): Uint8Array;
  readonly verified: boolean;
  readonly storePath: string | undefined;
  readonly lastUsed: number;
}

/** Batching delay of state writes (ms). */
const BATCH_MS = 1000;
/** The journal is rewritten once it is this much larger than its live records, and past 4 MiB. */
const COMPACT_FACTOR = 4;
const COMPACT_MIN_BYTES = 4 * 1024 * 1024;

/** The journal of a cache directory. */
export class CacheIndex {
  #path: string;
  #written = new Set<string>(); // entries whose layout is in the journal
  #dirty = new Map<string, IndexedEntry>();
  #removed = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #bytes = 0; // journal size
  /** Bytes of each entry's put and latest st record (what a rewrite keeps). */
  #live = new Map<string, { put: number; st: number }>();

  /** An index kept in `path`. */
  constructor(path: string) {
    this.#path = path;
  }

  /** The entries recorded (later records win; cut or unreadable lines are skipped). */
  async load(): Promise<Map<string, IndexRecord>> {
    const records = new Map<string, IndexRecord>();
    let text = "";
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    for (const line of text.split("\n")) {
      if (line) applyLine(records, line);
    }
    return records;
  }

  /** Rewrites the journal with exactly `records` (at load: drops history and cut lines). */
  async rewrite(records: Iterable<IndexRecord>): Promise<void> {
    await this.#enqueue(async () => {
      const lines: string[] = [];
      this.#written.clear();
      this.#live.clear();
      for (const r of records) {
        const put = putLine(r.hex, r);
        const st = stateLine(r.hex, r.have, r.verified, r.storePath, r.lastUsed);
        lines.push(put, st);
        this.#written.add(r.hex);
        this.#live.set(r.hex, { put: put.length + 1, st: st.length + 1 });
      }
      await this.#replace(lines);
    });
  }

  /** Writes `entry`'s state with the next batch (its layout too, the first time). */
  dirty(entry: IndexedEntry): void {
    // After a removal of the same NarHash (a rejected layout replaced), the removal stays: it is
    // written before the new entry's layout, so the old layout is never resumed.
    this.#dirty.set(entry.hex, entry);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch(() => {});
    }, BATCH_MS);
    Deno.unrefTimer(this.#timer);
  }

  /** Records the removal of `hex` with the next batch (nothing if it was never written). */
  removed(hex: string): void {
    this.#dirty.delete(hex);
    if (!this.#written.has(hex)) return;
    this.#written.delete(hex); // a new entry of this NarHash writes its own layout
    this.#removed.add(hex);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch(() => {});
    }, BATCH_MS);
    Deno.unrefTimer(this.#timer);
  }

  /** Writes every pending change now (one append). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    return this.#enqueue(() => this.#append());
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => {});
    return run;
  }

  async #append(): Promise<void> {
    if (this.#dirty.size === 0 && this.#removed.size === 0) return;
    const lines: string[] = [];
    for (const hex of this.#removed) {
      lines.push(JSON.stringify({ k: "del", h: hex }));
      this.#written.delete(hex);
      this.#live.delete(hex);
    }
    this.#removed.clear();
    for (const [hex, e] of this.#dirty) {
      let put = this.#live.get(hex)?.put ?? 0;
      if (!this.#written.has(hex)) {
        const line = putLine(hex, e.layout);
        lines.push(line);
        put = line.length + 1;
        this.#written.add(hex);
      }
      const st = stateLine(hex, e.haveBits(), e.verified, e.storePath, e.lastUsed);
      lines.push(st);
      this.#live.set(hex, { put, st: st.length + 1 });
    }
    this.#dirty.clear();
    const text = lines.join("\n") + "\n";
    await Deno.writeTextFile(this.#path, text, { append: true, mode: 0o600 });
    this.#bytes += text.length;
    let live = 0;
    for (const n of this.#live.values()) live += n.put + n.st;
    if (this.#bytes > COMPACT_MIN_BYTES && this.#bytes > COMPACT_FACTOR * live) {
      await this.#compact();
    }
  }

  /** Rewrites the journal from what it holds (the live entries' latest records). */
  async #compact(): Promise<void> {
    const records = await this.load();
    const lines: string[] = [];
    for (const r of records.values()) {
      lines.push(
        putLine(r.hex, r),
        stateLine(r.hex, r.have, r.verified, r.storePath, r.lastUsed),
      );
    }
    await this.#replace(lines);
  }

  async #replace(lines: string[]): Promise<void> {
    const text = lines.length ? lines.join("\n") + "\n" : "";
    const tmp = `${this.#path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    await Deno.writeTextFile(tmp, text, { mode: 0o600 });
    try {
      await Deno.rename(tmp, this.#path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
    this.#bytes = text.length;
  }
}

function putLine(
  hex: string,
  l: { narSize: number; blockSize: number; hashes: Uint8Array },
): string {
  return JSON.stringify({
    k: "put",
    h: hex,
    n: l.narSize,
    b: l.blockSize,
    x: base64Encode(l.hashes),
  });
}

function stateLine(
  hex: string,
  have: Uint8Array,
  verified: boolean,
  storePath: string | undefined,
  lastUsed: number,
): string {
  return JSON.stringify({
    k: "st",
    h: hex,
    have: base64Encode(have),
    v: verified,
    p: storePath,
    t: lastUsed,
  });
}

function applyLine(records: Map<string, IndexRecord>, line: string): void {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return; // cut by a crash
  }
  const hex = o?.h;
  if (typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) return;
  try {
    if (o.k === "del") {
      records.delete(hex);
    } else if (o.k === "put") {
      const narSize = o.n, blockSize = o.b;
      if (
        typeof narSize !== "number" || typeof blockSize !== "number" || !(narSize > 0) ||
        !(blockSize > 0)
      ) return;
      const count = Math.ceil(narSize / blockSize);
      const hashes = base64Decode(String(o.x));
      if (hashes.length !== count * 32) return;
      records.set(hex, {
        hex,
        narSize,
        blockSize,
        hashes,
        have: new Uint8Array(bitBytes(count)),
        verified: false,
        storePath: undefined,
        lastUsed: 0,
      });
    } else if (o.k === "st") {
      const r = records.get(hex);
      if (!r) return;
      const have = base64Decode(String(o.have));
      if (have.length !== r.have.length) return;
      r.have = have;
      r.verified = o.v === true;
      r.storePath = typeof o.p === "string" ? o.p : undefined;
      r.lastUsed = typeof o.t === "number" ? o.t : 0;
    }
  } catch {
    // an unreadable field: the record is skipped
  }
}
