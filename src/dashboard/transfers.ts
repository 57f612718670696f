/**
 * Live NAR transfers for the dashboard, rebuilt from the planner's typed
 * events (`transfer:*`, src/fetch/events.ts) and the swarm's per-block events
 * (`download:block`, and `download:whole` for small NARs fetched in one
 * message): progress, a smoothed rate, the bytes each source kind
 * delivered (peers / HTTP) and the wire bytes each peer sent. Pure and
 * bounded: at most `maxActive` active transfers (the oldest is dropped) and
 * the `keepFinished` most recent finished ones.
 *
 * @example
 * ```ts
 * import { TransferTracker } from "./transfers.ts";
 * const tracker = new TransferTracker();
 * bus.onAny((type, payload) => tracker.handle(type, payload));
 * tracker.list(); // active first, then recently finished
 * ```
 * @module
 */
import { hexEncode } from "../encoding/hex.ts";
import type { TransferEvents } from "../fetch/events.ts";
import { parseNarHash } from "../hash/nar_hash.ts";

/** Where bytes came from. */
export type SourceKind = "http" | "p2p";

/** One transfer as the dashboard shows it (`/api/transfers`). */
export interface TransferView {
  id: number;
  storePath: string;
  narHash: string;
  narSize: number;
  policy: string;
  state: "active" | "done" | "failed";
  /** Milliseconds since the epoch. */
  startedAt: number;
  endedAt: number | null;
  /** NAR bytes delivered so far. */
  bytes: number;
  /** Smoothed delivery rate, bytes per second. */
  rate: number;
  /** The source in use (null before the first one opens). */
  source: SourceKind | null;
  /** Bytes delivered per source attempt, in order. */
  sources: { source: SourceKind; url: string; bytes: number }[];
  /** Bytes delivered per source kind. */
  split: Record<SourceKind, number>;
  /** Wire bytes received from each peer (P2P sources), largest first. */
  peers: { peer: string; bytes: number }[];
  error: string | null;
}

interface Segment {
  source: SourceKind;
  url: string;
  /** NAR offset where this source started. */
  offset: number;
  bytes: number;
}

interface Entry {
  view: TransferView;
  hex: string | undefined;
  segments: Segment[];
  lastAt: number;
  lastBytes: number;
  peers: Map<string, number>;
}

/** Options of {@linkcode TransferTracker}. */
export interface TransferTrackerOptions {
  /** Active transfers kept (default 256); beyond, the oldest is forgotten. */
  maxActive?: number;
  /** Finished transfers kept (default 10). */
  keepFinished?: number;
  /** Peers listed per transfer (default 64). */
  maxPeers?: number;
  /** Clock (default Date.now). */
  now?: () => number;
}

type E<K extends keyof TransferEvents> = TransferEvents[K];

/** Tracks transfers from events. */
export class TransferTracker {
  #active = new Map<number, Entry>();
  #finished: TransferView[] = [];
  #maxActive: number;
  #keepFinished: number;
  #maxPeers: number;
  #now: () => number;

  /** Creates an empty tracker. */
  constructor(options: TransferTrackerOptions = {}) {
    this.#maxActive = options.maxActive ?? 256;
    this.#keepFinished = options.keepFinished ?? 10;
    this.#maxPeers = options.maxPeers ?? 64;
    this.#now = options.now ?? Date.now;
  }

  /** Applies one event; returns true when a transfer changed. */
  handle(type: string, payload: unknown): boolean {
    switch (type) {
      case "transfer:started":
        return this.#started(payload as E<"transfer:started">);
      case "transfer:source":
        return this.#source(payload as E<"transfer:source">);
      case "transfer:progress":
        return this.#progress(payload as E<"transfer:progress">);
      case "transfer:source-failed":
        return this.#sourceFailed(payload as E<"transfer:source-failed">);
      case "transfer:done":
        return this.#done(payload as E<"transfer:done">);
      case "transfer:failed":
        return this.#failed(payload as E<"transfer:failed">);
      case "download:block":
      case "download:whole":
        return this.#block(payload as { narHash: string; peer: string; wireBytes: number });
      default:
        return false;
    }
  }

  /** Active transfers (oldest first), then finished ones (newest first). */
  list(): TransferView[] {
    return [...[...this.#active.values()].map((e) => this.#snapshot(e)), ...this.#finished];
  }

  #snapshot(e: Entry): TransferView {
    const peers = [...e.peers].map(([peer, bytes]) => ({ peer, bytes }))
      .sort((a, b) => b.bytes - a.bytes);
    const sources = e.segments.map((s) => ({ source: s.source, url: s.url, bytes: s.bytes }));
    const split = { http: 0, p2p: 0 };
    for (const s of sources) split[s.source] += s.bytes;
    return { ...e.view, sources, split, peers };
  }

  #started(p: E<"transfer:started">): boolean {
    let hex: string | undefined;
    try {
      hex = hexEncode(parseNarHash(p.narHash));
    } catch {
      hex = undefined;
    }
    const now = this.#now();
    this.#active.set(p.transfer, {
      view: {
        id: p.transfer,
        storePath: p.storePath,
        narHash: p.narHash,
        narSize: p.narSize,
        policy: p.policy,
        state: "active",
        startedAt: now,
        endedAt: null,
        bytes: 0,
        rate: 0,
        source: null,
        sources: [],
        split: { http: 0, p2p: 0 },
        peers: [],
        error: null,
      },
      hex,
      segments: [],
      lastAt: now,
      lastBytes: 0,
      peers: new Map(),
    });
    while (this.#active.size > this.#maxActive) {
      this.#active.delete(this.#active.keys().next().value!);
    }
    return true;
  }

  #source(p: E<"transfer:source">): boolean {
    const e = this.#active.get(p.transfer);
    if (!e) return false;
    // Whatever lay at or after this offset is being fetched again.
    e.segments = e.segments.filter((s) => s.offset < p.offset);
    for (const s of e.segments) s.bytes = Math.min(s.bytes, p.offset - s.offset);
    e.segments.push({ source: p.source, url: p.url, offset: p.offset, bytes: 0 });
    e.view.source = p.source;
    e.view.bytes = p.offset;
    return true;
  }

  #progress(p: E<"transfer:progress">): boolean {
    const e = this.#active.get(p.transfer);
    if (!e) return false;
    const current = e.segments.at(-1);
    if (current) current.bytes = Math.max(0, p.bytes - current.offset);
    const now = this.#now();
    const dt = (now - e.lastAt) / 1000;
    if (dt > 0) {
      const instant = Math.max(0, p.bytes - e.lastBytes) / dt;
      e.view.rate = e.view.rate === 0 ? instant : 0.7 * e.view.rate + 0.3 * instant;
    }
    e.lastAt = now;
    e.lastBytes = p.bytes;
    e.view.bytes = p.bytes;
    return true;
  }

  #sourceFailed(p: E<"transfer:source-failed">): boolean {
    const e = this.#active.get(p.transfer);
    if (!e) return false;
    const current = e.segments.at(-1);
    if (current && current.url === p.url) current.bytes = Math.max(0, p.offset - current.offset);
    e.view.bytes = p.offset;
    e.view.source = null;
    return true;
  }

  #done(p: E<"transfer:done">): boolean {
    const e = this.#active.get(p.transfer);
    if (!e) return false;
    let at = 0;
    e.segments = p.sources.map((s) => {
      const seg = { source: s.source, url: s.url, offset: at, bytes: s.bytes };
      at += s.bytes;
      return seg;
    });
    e.view.bytes = p.bytes;
    e.view.rate = p.durationMs > 0 ? p.bytes / (p.durationMs / 1000) : 0;
    return this.#finish(e, "done", null);
  }

  #failed(p: E<"transfer:failed">): boolean {
    const e = this.#active.get(p.transfer);
    if (!e) return false;
    return this.#finish(e, "failed", p.error);
  }

  #finish(e: Entry, state: "done" | "failed", error: string | null): boolean {
    this.#active.delete(e.view.id);
    e.view.state = state;
    e.view.endedAt = this.#now();
    e.view.source = null;
    e.view.error = error;
    this.#finished.unshift(this.#snapshot(e));
    this.#finished.length = Math.min(this.#finished.length, this.#keepFinished);
    return true;
  }

  #block(p: { narHash: string; peer: string; wireBytes: number }): boolean {
    // The newest active transfer of that NAR gets the block.
    let target: Entry | undefined;
    for (const e of this.#active.values()) if (e.hex === p.narHash) target = e;
    if (!target) return false;
    const before = target.peers.get(p.peer);
    if (before === undefined && target.peers.size >= this.#maxPeers) return false;
    target.peers.set(p.peer, (before ?? 0) + p.wireBytes);
    return true;
  }
}
