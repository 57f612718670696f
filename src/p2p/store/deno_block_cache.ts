/**
 * The block cache: NARs being downloaded from peers (and NARs kept for
 * seeding that are not in a local store, e.g. served to Nix), one sparse
 * file per NarHash (`<hex>.nar`, written at block offsets) and one journal
 * for all of them (`index.jsonl`: manifest hashes, have-bitmap, verified
 * flag; `_cache_index.ts`), written in batches. Survives restarts, so a
 * download resumes and a peer still downloading serves the blocks it has.
 * Entries are evicted least-recently-used beyond `maxBytes`, never while in
 * use. A cache in the earlier layout (a directory per entry with `data` and
 * `state.json`) is taken over at load.
 *
 * @example
 * ```ts
 * const cache = new BlockCache("/var/cache/guix-p2p/blocks", { maxBytes: 10 * 2 ** 30 });
 * await cache.load();
 * const entry = await cache.open({ narHash, narSize, blockSize, hashes });
 * await entry.writeBlock(0, bytes);
 * ```
 * @module
 */
import { base64Decode } from "../../encoding/base64.ts";
import { hexDecode, hexEncode } from "../../encoding/hex.ts";
import { bitBytes, countBits, setBit, testBit } from "./_bits.ts";
import { readJsonFile } from "../deno_json_file.ts";
import { CacheIndex, type IndexRecord } from "./_cache_index.ts";

/** What identifies an entry's layout. */
export interface EntryLayout {
  narHash: Uint8Array;
  narSize: number;
  blockSize: number;
  /** blockCount × 32 bytes of per-block SHA-256. */
  hashes: Uint8Array;
}

/** One cached NAR. */
export class CacheEntry {
  readonly hex: string;
  readonly layout: EntryLayout;
  readonly blockCount: number;
  /** The NAR's file (sparse: only present blocks hold data). */
  readonly path: string;
  #have: Uint8Array;
  /** Bits set in #have (kept up to date: `complete` is asked per item, per block). */
  #haveCount: number;
  #verified: boolean;
  #storePath: string | undefined;
  #lastUsed: number;
  #pins = 0;
  #read: Deno.FsFile | undefined;
  #write: Deno.FsFile | undefined;
  #closed = false;
  #opening: Promise<{ read: Deno.FsFile; write: Deno.FsFile }> | undefined;
  /** The queued writes (never rejects). */
  #writes: Promise<void> = Promise.resolve();
  /** The write file's position when known (after one of our writes), else -1. */
  #writeAt = -1;
  /** @internal Set by {@linkcode BlockCache}: forgets this entry and removes its files. */
  drop: (() => Promise<void>) | undefined;
  /** @internal Set by {@linkcode BlockCache}: where the entry's state is recorded. */
  index: CacheIndex | undefined;

  /** @internal Use {@linkcode BlockCache.open}. */
  constructor(
    path: string,
    layout: EntryLayout,
    have: Uint8Array,
    verified: boolean,
    storePath?: string,
    lastUsed = Date.now(),
  ) {
    this.path = path;
    this.layout = layout;
    this.hex = hexEncode(layout.narHash);
    this.blockCount = Math.ceil(layout.narSize / layout.blockSize);
    this.#have = have;
    this.#haveCount = countBits(have, this.blockCount);
    this.#verified = verified;
    this.#storePath = storePath;
    this.#lastUsed = lastUsed;
  }

  /** Blocks present. */
  get haveCount(): number {
    return this.#haveCount;
  }

  /** Copy of the have-bitmap (wire layout). */
  haveBits(): Uint8Array {
    return this.#have.slice();
  }

  /** True when every block is present. */
  get complete(): boolean {
    return this.haveCount === this.blockCount;
  }

  /** True once the whole NAR was checked against the NarHash. */
  get verified(): boolean {
    return this.#verified;
  }

  /** The store path this NAR was fetched for, if known. */
  get storePath(): string | undefined {
    return this.#storePath;
  }

  /** Last use (ms since the epoch). */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /** True while pinned (a download or an upload uses it). */
  get pinned(): boolean {
    return this.#pins > 0;
  }

  /** Whether block `i` is present. */
  has(i: number): boolean {
    return i >= 0 && i < this.blockCount && testBit(this.#have, i);
  }

  /** The byte range of block `i`. */
  range(i: number): { offset: number; length: number } {
    const offset = i * this.layout.blockSize;
    return { offset, length: Math.min(this.layout.blockSize, this.layout.narSize - offset) };
  }

  /** Keeps the entry from eviction until the returned function is called. */
  pin(): () => void {
    this.#pins++;
    this.#lastUsed = Date.now();
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.#pins--;
      }
    };
  }

  #files(): Promise<{ read: Deno.FsFile; write: Deno.FsFile }> {
    if (this.#closed) return Promise.reject(new Error(`block cache entry ${this.hex} was removed`));
    // One opening shared by concurrent callers (a write queued while a read opens the files).
    this.#opening ??= this.#open().catch((e) => {
      this.#opening = undefined;
      throw e;
    });
    return this.#opening;
  }

  async #open(): Promise<{ read: Deno.FsFile; write: Deno.FsFile }> {
    const write = await Deno.open(this.path, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    try {
      const { size } = await write.stat();
      if (size !== this.layout.narSize) await write.truncate(this.layout.narSize);
      const read = await Deno.open(this.path, { read: true });
      if (this.#closed) {
        read.close();
        throw new Error(`block cache entry ${this.hex} was removed`);
      }
      this.#read = read;
      this.#write = write;
      this.#writeAt = -1;
      return { read, write };
    } catch (e) {
      write.close();
      throw e;
    }
  }

  /**
   * Writes a verified block and marks it present once it is written (to the
   * page cache). Writes of one entry are done one after another, in the
   * order asked; the returned promise settles when this one is done. The
   * write itself is synchronous: the same write as an async op (on a
   * blocking thread) was measured slower end to end on this 2-core machine
   * under load — the hops to the thread pool and back cost more CPU than they
   * free on the event loop, and the download waited on them
   * (docs/benchmarks.md "One large item").
   */
  writeBlock(i: number, bytes: Uint8Array): Promise<void> {
    const { offset, length } = this.range(i);
    if (bytes.length !== length) {
      return Promise.reject(
        new Error(`block ${i} of ${this.hex}: ${bytes.length} bytes, expected ${length}`),
      );
    }
    const run = this.#writes.then(async () => {
      const { write } = await this.#files();
      // Blocks arriving in order follow each other in the file: no seek between them.
      if (this.#writeAt !== offset) write.seekSync(offset, Deno.SeekMode.Start);
      this.#writeAt = -1; // unknown until the write is whole
      let done = 0;
      while (done < length) done += write.writeSync(bytes.subarray(done));
      this.#writeAt = offset + length;
      this.#present(i);
    });
    this.#writes = run.catch(() => {});
    return run;
  }

  /**
   * Writes blocks `first`, `first + 1`, … (`bytes` is their concatenation,
   * whole blocks, the last one may be the NAR's short last block) in one
   * synchronous write and marks them present: for a small NAR fetched whole,
   * one system call instead of a queued write per block.
   */
  async writeBlocks(first: number, bytes: Uint8Array): Promise<void> {
    const { offset } = this.range(first);
    const count = Math.ceil(bytes.length / this.layout.blockSize);
    const last = this.range(first + count - 1);
    if (
      first < 0 || first + count > this.blockCount ||
      offset + bytes.length !== last.offset + last.length
    ) {
      throw new Error(
        `blocks ${first}.. of ${this.hex}: ${bytes.length} bytes are not whole blocks`,
      );
    }
    await this.#writes; // after the writes already queued
    const { write } = await this.#files();
    write.seekSync(offset, Deno.SeekMode.Start);
    this.#writeAt = -1;
    let done = 0;
    while (done < bytes.length) done += write.writeSync(bytes.subarray(done));
    this.#writeAt = offset + bytes.length;
    for (let i = first; i < first + count; i++) this.#present(i);
  }

  #present(i: number): void {
    if (!testBit(this.#have, i)) {
      setBit(this.#have, i);
      this.#haveCount++;
    }
    this.#lastUsed = Date.now();
    this.#schedulePersist();
  }

  /** Reads `length` bytes at `offset` (the caller checks presence). */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const { read } = await this.#files();
    this.#lastUsed = Date.now();
    // Synchronous: what is read was just written or served before and sits in the page cache
    // (~0.1 ms per block), while each async op hops to a blocking thread and back.
    const out = new Uint8Array(length);
    read.seekSync(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < length) {
      const n = read.readSync(out.subarray(got));
      if (n === null) throw new Error(`block cache ${this.hex}: short read at ${offset + got}`);
      got += n;
    }
    return out;
  }

  /** Reads block `i`. */
  readBlock(i: number): Promise<Uint8Array> {
    const { offset, length } = this.range(i);
    return this.read(offset, length);
  }

  /** Records that the whole NAR matched the NarHash. */
  markVerified(storePath?: string): Promise<void> {
    this.#verified = true;
    if (storePath) this.#storePath = storePath;
    // Written with the next batch of the index: an entry consumed and removed before it
    // (a prefetched item, once substituted, is served from the store) costs no state write.
    this.#schedulePersist();
    return Promise.resolve();
  }

  /**
   * The whole NAR failed verification: forgets every block and drops the
   * entry, layout (the lying manifest's block hashes) included, from memory
   * and disk, so nothing of it is resumed or served again.
   */
  async reset(): Promise<void> {
    this.#have.fill(0);
    this.#haveCount = 0;
    this.#verified = false;
    if (this.drop) await this.drop();
    else await this.persist();
  }

  #schedulePersist(): void {
    if (!this.#closed) this.index?.dirty(this);
  }

  /** Writes the entry's state to the index now (with every other pending change). */
  async persist(): Promise<void> {
    if (this.#closed) return;
    this.index?.dirty(this);
    await this.index?.flush();
  }

  /** Closes the files once the queued writes are done (pending index changes are written first). */
  async close(): Promise<void> {
    await this.#writes;
    await this.index?.flush().catch(() => {});
    this.#closeFiles();
  }

  #closeFiles(): void {
    this.#read?.close();
    this.#write?.close();
    this.#read = this.#write = this.#opening = undefined;
  }

  /** @internal */
  async destroy(): Promise<void> {
    this.#closed = true;
    this.index?.removed(this.hex);
    // A write in progress holds the file open until it ends (then fails: the entry is gone).
    await this.#writes;
    this.#closeFiles();
    await Deno.remove(this.path).catch(() => {});
  }
}

/** The cache directory. */
export class BlockCache {
  #dir: string;
  #index: CacheIndex;
  #maxBytes: number;
  #entries = new Map<string, CacheEntry>();
  #onRemove: ((hex: string) => void) | undefined;
  #onEvict: (entry: CacheEntry) => void;

  /**
   * Creates a cache rooted at `dir`, capped at `maxBytes` of NAR data;
   * `onRemove` hears of every entry removed (evicted, rejected, unseeded);
   * `onEvict` is told of every entry evicted to make room (e.g. to stop
   * announcing it).
   */
  constructor(
    dir: string,
    options: {
      maxBytes: number;
      onRemove?: (hex: string) => void;
      onEvict?: (entry: CacheEntry) => void;
    },
  ) {
    this.#dir = dir;
    this.#index = new CacheIndex(`${dir}/index.jsonl`);
    this.#maxBytes = options.maxBytes;
    this.#onRemove = options.onRemove;
    this.#onEvict = options.onEvict ?? (() => {});
  }

  /** Total NAR bytes held. */
  get totalBytes(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.layout.narSize;
    return n;
  }

  /** All entries. */
  entries(): CacheEntry[] {
    return [...this.#entries.values()];
  }

  /**
   * Reads the index (entries whose file is gone are forgotten, files no entry
   * names are removed), takes over entries of the earlier layout, and
   * rewrites the index compactly.
   */
  async load(): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const records = await this.#index.load();
    const files = new Set<string>();
    for await (const e of Deno.readDir(this.#dir)) {
      if (e.isDirectory && /^[0-9a-f]{64}$/.test(e.name)) {
        if (await this.#migrate(e.name, records)) files.add(`${e.name}.nar`);
      } else if (e.isFile) files.add(e.name);
    }
    for (const r of records.values()) {
      const path = `${this.#dir}/${r.hex}.nar`;
      if (!files.has(`${r.hex}.nar`)) {
        // A file never written (no block) or removed: nothing to resume.
        if (r.have.some((b) => b !== 0)) continue;
      }
      files.delete(`${r.hex}.nar`);
      this.#add(
        new CacheEntry(
          path,
          {
            narHash: hexDecode(r.hex),
            narSize: r.narSize,
            blockSize: r.blockSize,
            hashes: r.hashes,
          },
          r.have,
          r.verified,
          r.storePath,
          r.lastUsed,
        ),
      );
    }
    for (const name of files) {
      if (name.endsWith(".nar") || name.endsWith(".tmp")) {
        await Deno.remove(`${this.#dir}/${name}`).catch(() => {});
      }
    }
    await this.#index.rewrite(this.entries().map(recordOf));
  }

  /** An entry of the earlier layout (`<hex>/data` + `<hex>/state.json`) becomes `<hex>.nar`. */
  async #migrate(hex: string, records: Map<string, IndexRecord>): Promise<boolean> {
    const dir = `${this.#dir}/${hex}`;
    const old = parseState(`${dir}/data`, await readJsonFile(`${dir}/state.json`));
    let taken = false;
    if (old && old.hex === hex && !records.has(hex)) {
      try {
        await Deno.rename(`${dir}/data`, `${this.#dir}/${hex}.nar`);
        records.set(hex, recordOf(old));
        taken = true;
      } catch {
        // no data file: nothing to take over
      }
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    return taken;
  }

  /** The entry for a NarHash (hex), if any. */
  get(hex: string): CacheEntry | undefined {
    return this.#entries.get(hex);
  }

  /**
   * The entry for `layout`: the existing one if its block hashes are the same
   * (resuming), else a fresh one (an old entry with other hashes is replaced
   * unless pinned).
   */
  async open(layout: EntryLayout, storePath?: string): Promise<CacheEntry> {
    const hex = hexEncode(layout.narHash);
    const existing = this.#entries.get(hex);
    if (existing && sameLayout(existing.layout, layout)) return existing;
    if (existing) {
      if (existing.pinned) {
        throw new Error(`block cache entry ${hex} is in use with another manifest`);
      }
      await this.remove(hex);
    }
    const entry = new CacheEntry(
      `${this.#dir}/${hex}.nar`,
      layout,
      new Uint8Array(bitBytes(Math.ceil(layout.narSize / layout.blockSize))),
      false,
      storePath,
    );
    this.#add(entry);
    // Indexed with its first block (an entry without one is not resumed).
    await this.evict(entry);
    return entry;
  }

  #add(entry: CacheEntry): void {
    this.#entries.set(entry.hex, entry);
    entry.index = this.#index;
    entry.drop = async () => {
      if (this.#entries.get(entry.hex) === entry) this.#entries.delete(entry.hex);
      this.#onRemove?.(entry.hex);
      await entry.destroy();
    };
  }

  /** Removes an entry and its files. */
  async remove(hex: string): Promise<void> {
    const e = this.#entries.get(hex);
    if (!e) return;
    this.#entries.delete(hex);
    this.#onRemove?.(hex);
    await e.destroy();
  }

  /** Evicts least-recently-used unpinned entries until under the cap (never `keep`). */
  async evict(keep?: CacheEntry): Promise<string[]> {
    const evicted: string[] = [];
    const candidates = this.entries().filter((e) => e !== keep && !e.pinned).sort((a, b) =>
      a.lastUsed - b.lastUsed
    );
    for (const e of candidates) {
      if (this.totalBytes <= this.#maxBytes) break;
      await this.remove(e.hex);
      evicted.push(e.hex);
      this.#onEvict(e);
    }
    return evicted;
  }

  /** Closes every entry (the index is written first). */
  async close(): Promise<void> {
    for (const e of this.#entries.values()) await e.close();
    await this.#index.flush();
  }
}

function sameLayout(a: EntryLayout, b: EntryLayout): boolean {
  return a.narSize === b.narSize && a.blockSize === b.blockSize &&
    a.hashes.length === b.hashes.length &&
    a.hashes.every((x, i) => x === b.hashes[i]);
}

function recordOf(e: CacheEntry): IndexRecord {
  return {
    hex: e.hex,
    narSize: e.layout.narSize,
    blockSize: e.layout.blockSize,
    hashes: e.layout.hashes,
    have: e.haveBits(),
    verified: e.verified,
    storePath: e.storePath,
    lastUsed: e.lastUsed,
  };
}

/** An entry's `state.json` in the earlier layout. */
function parseState(path: string, raw: unknown): CacheEntry | undefined {
  try {
    const o = raw as Record<string, unknown>;
    if (
      o?.v !== 1 || typeof o.narHash !== "string" || typeof o.narSize !== "number" ||
      typeof o.blockSize !== "number"
    ) return undefined;
    const hashes = base64Decode(String(o.hashes));
    const count = Math.ceil(o.narSize / o.blockSize);
    const have = base64Decode(String(o.have));
    if (hashes.length !== count * 32 || have.length !== bitBytes(count)) return undefined;
    const narHash = hexDecode(o.narHash);
    return new CacheEntry(
      path,
      { narHash, narSize: o.narSize, blockSize: o.blockSize, hashes },
      have,
      o.verified === true,
      typeof o.storePath === "string" ? o.storePath : undefined,
      typeof o.lastUsed === "number" ? o.lastUsed : 0,
    );
  } catch {
    return undefined;
  }
}
