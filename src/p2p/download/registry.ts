/**
 * The swarm downloads in progress (by NarHash), and what happens once a
 * finished one is checked against the NarHash — by the registry itself, on
 * a worker thread, as soon as the last block arrived, or by a consumer that
 * hashed what it read: verified — the cache entry becomes a seed; rejected —
 * the manifest was a lie, so the peers that vouched for it first-hand (those
 * that said they had verified it, not relays) are penalised and the entry is
 * dropped (docs/protocol.md §3.4). The first outcome wins.
 *
 * @example
 * ```ts
 * const registry = new DownloadRegistry({ cache, peerBook, emit, keep: () => true, unprovide, check });
 * registry.set(hex, { key, members, download });
 * registry.verified(download); // a consumer hashed all of its NAR
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { formatNarHash } from "../../hash/nar_hash.ts";
import type { BlockCache, CacheEntry } from "../store/deno_block_cache.ts";
import type { PeerBook } from "../peer_book.ts";
import type { SwarmDownload } from "./swarm_download.ts";

/** A peer whose manifest a download uses. */
export interface Member {
  peer: string;
  /** It said it verified the whole NAR itself (an origin, not a relay). */
  verified: boolean;
}

/** A download in progress. */
export interface ActiveDownload {
  /** Its manifest key. */
  key: string;
  members: Member[];
  download: SwarmDownload;
  /** The store path it was fetched for. */
  storePath?: string;
}

/** Events of the registry. */
export interface RegistryEvents {
  "peer:penalised": { peer: string; reason: string; banned: boolean };
  "seed:added": { narHash: string; storePath: string | undefined; origin: string };
}

/** Options of {@linkcode DownloadRegistry}. */
export interface DownloadRegistryInit {
  cache: BlockCache;
  peerBook: PeerBook;
  /** Whether verified downloads are kept to seed (`auto_seed` is not "off"). */
  keep: () => boolean;
  /** Stops announcing a NAR. */
  unprovide: (narHash: Uint8Array) => Promise<void>;
  /** Stops offering `peer` as a provider of `hex` (after a lie it took part in). */
  forget?: (hex: string, peer: string) => void;
  /** Whether a complete entry hashes to its NarHash (undefined: could not tell). */
  check: (entry: CacheEntry) => Promise<boolean | undefined>;
  emit: <K extends keyof RegistryEvents>(type: K, payload: RegistryEvents[K]) => void;
}

/** Downloads in progress and their outcomes. */
export class DownloadRegistry {
  #o: DownloadRegistryInit;
  #active = new Map<string, ActiveDownload>();
  #waiters = new Map<string, (() => void)[]>();

  /** Creates the registry. */
  constructor(init: DownloadRegistryInit) {
    this.#o = init;
  }

  /** The download of `hex`, if one runs. */
  get(hex: string): ActiveDownload | undefined {
    return this.#active.get(hex);
  }

  /** Registers a download; it is forgotten when it fails or when its outcome is known. */
  set(hex: string, active: ActiveDownload): void {
    this.#active.set(hex, active);
    active.download.done.then(() => this.#check(hex, active), () => this.#forget(hex, active));
  }

  async #check(hex: string, active: ActiveDownload): Promise<void> {
    const { download } = active;
    // Hashed as it was written (small NARs): no read-back; else the entry is read and hashed.
    const digest = await download.narDigest().catch(() => undefined);
    const good = digest
      ? hexEncode(digest) === download.entry.hex
      : await this.#o.check(download.entry).catch(() => undefined);
    if (this.#active.get(hex) !== active || good === undefined) return; // decided already
    if (good) this.#verified(hex, active);
    else this.#rejected(hex, active);
  }

  /**
   * A consumer says the NAR it was given did not match: checks the cache
   * entry (never trusting the report alone) and rejects it if it is wrong.
   */
  async mismatch(hex: string): Promise<boolean> {
    const active = this.#active.get(hex);
    const entry = active?.download.entry ?? this.#o.cache.get(hex);
    if (!entry || !entry.complete) return false;
    const good = await this.#o.check(entry).catch(() => undefined);
    if (good !== false) return false;
    this.#rejected(hex, this.#active.get(hex) === active ? active : undefined, active?.members);
    if (this.#o.cache.get(hex) === entry) await this.#o.cache.remove(hex).catch(() => {});
    return true;
  }

  /** Resolves once the download of `hex` (if one runs) is verified, rejected or failed. */
  settled(hex: string): Promise<void> {
    if (!this.#active.has(hex)) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.set(hex, [...(this.#waiters.get(hex) ?? []), resolve]);
    return promise;
  }

  #forget(hex: string, active?: ActiveDownload): void {
    if (active && this.#active.get(hex) !== active) return;
    this.#active.delete(hex);
    for (const w of this.#waiters.get(hex) ?? []) w();
    this.#waiters.delete(hex);
  }

  /** Every download in progress. */
  entries(): [string, ActiveDownload][] {
    return [...this.#active.entries()];
  }

  /** Aborts every download (the node stops). */
  abortAll(reason: Error): void {
    for (const d of this.#active.values()) d.download.abort(reason);
  }

  /** A consumer hashed all of `download`'s NAR itself: it matches the NarHash. */
  verified(download: SwarmDownload): void {
    const found = this.#find(download);
    if (found && download.entry.complete) this.#verified(found.hex, found.active);
  }

  /** A consumer hashed all of `download`'s NAR itself: it does not match the NarHash. */
  rejected(download: SwarmDownload): void {
    const found = this.#find(download);
    if (found) this.#rejected(found.hex, found.active);
  }

  #find(download: SwarmDownload): { hex: string; active: ActiveDownload } | undefined {
    for (const [hex, active] of this.#active) {
      if (active.download === download) return { hex, active };
    }
    return undefined;
  }

  #verified(hex: string, active: ActiveDownload): void {
    if (this.#active.get(hex) !== active) return;
    const entry = active.download.entry;
    if (entry.verified) return this.#forget(hex, active);
    void (async () => {
      await entry.markVerified(active.storePath);
      this.#forget(hex, active);
      if (!this.#o.keep()) {
        await this.#o.unprovide(entry.layout.narHash);
        if (!entry.pinned) await this.#o.cache.remove(hex).catch(() => {});
      } else {
        // Seeded from the block cache by NarHash until the helper reports the store item.
        this.#o.emit("seed:added", {
          narHash: formatNarHash(entry.layout.narHash),
          storePath: undefined,
          origin: "auto",
        });
      }
    })();
  }

  /**
   * The whole NAR did not match its NarHash: the manifest lied. Penalises the
   * members that vouched for it first-hand (relays are not at fault), stops
   * the download if it still runs, and drops its entry.
   */
  #rejected(
    hex: string,
    active: ActiveDownload | undefined,
    members = active?.members ?? [],
  ): void {
    if (active) {
      this.#forget(hex, active);
      active.download.abort(new Error("its manifest did not hash to the NarHash"));
    }
    // Nobody who took part is asked for this NAR again; relays (which could not know) are
    // not penalised, first-hand sources are.
    for (const { peer } of members) this.#o.forget?.(hex, peer);
    for (const { peer } of members.filter((m) => m.verified)) {
      const { banned } = this.#o.peerBook.fault(peer, "manifest did not hash to the NarHash");
      this.#o.emit("peer:penalised", { peer, reason: "lying manifest", banned });
    }
    const entry = active?.download.entry ?? this.#o.cache.get(hex);
    // Only this download's own entry (a newer download of the hash may have its own).
    if (entry && this.#o.cache.get(hex) === entry) {
      void this.#o.cache.remove(hex).catch(() => {});
    }
  }
}
