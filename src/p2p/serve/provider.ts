/**
 * Provider records: announcing in the DHT that this node serves a NAR (once
 * per NAR; kad-dht republishes on its schedule), and withdrawing the
 * announcement when the NAR is no longer served.
 *
 * @example
 * ```ts
 * const records = new ProviderRecords({ node: () => node, running: () => true, emit });
 * records.provide(narHash); // in the background
 * await records.unprovide(narHash);
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { narCid } from "../content_key.ts";
import { Slots } from "../dht/slots.ts";
import type { P2pNode } from "../node.ts";

/** Events of provider records. */
export interface ProviderEvents {
  "provide:done": { narHash: string; ms: number; error?: string };
}

/** Options of {@linkcode ProviderRecords}. */
export interface ProviderRecordsInit {
  node: () => P2pNode;
  running: () => boolean;
  /** Bound on one announcement. Default 120 s. */
  timeoutMs?: number;
  /**
   * Deferred announcements (`provide(h, { later: true })`) wait until nothing
   * new was deferred for this long (default 5 s), at most `laterMaxMs`
   * (default 30 s): the DHT walks of a closure's auto-seeded items then run
   * after its substitutions, not between them.
   */
  laterQuietMs?: number;
  laterMaxMs?: number;
  emit: <K extends keyof ProviderEvents>(type: K, payload: ProviderEvents[K]) => void;
}

/** Announces and withdraws provider records. */
export class ProviderRecords {
  #o: ProviderRecordsInit;
  #slots = new Slots(8);
  #providing = new Set<string>();
  #stopping = new AbortController();
  #later = new Map<string, Uint8Array>();
  #laterTimer: ReturnType<typeof setTimeout> | undefined;
  #laterSince = 0;

  /** Creates the announcer. */
  constructor(init: ProviderRecordsInit) {
    this.#o = init;
  }

  /** Aborts announcements in progress. */
  stop(): void {
    this.#stopping.abort(new Error("stopping"));
    clearTimeout(this.#laterTimer);
    this.#later.clear();
  }

  /** Announcements deferred and not started yet. */
  get deferred(): number {
    return this.#later.size;
  }

  /** Announcements started and not finished (running, or waiting for one of the 8 slots). */
  get pending(): number {
    return this.#providing.size;
  }

  /**
   * Publishes a provider record for `narHash` (not awaited; errors become
   * events). With `later`, after a quiet period (peers on the LAN find the
   * item at once anyway: they ask connected peers with HAVE before the DHT).
   */
  provide(narHash: Uint8Array, options: { later?: boolean } = {}): void {
    const hex = hexEncode(narHash);
    if (options.later) {
      if (this.#providing.has(hex) || !this.#o.running()) return;
      if (this.#later.size === 0) this.#laterSince = Date.now();
      this.#later.set(hex, narHash);
      clearTimeout(this.#laterTimer);
      const quiet = this.#o.laterQuietMs ?? 5000;
      const left = (this.#o.laterMaxMs ?? 30_000) - (Date.now() - this.#laterSince);
      this.#laterTimer = setTimeout(() => this.#flushLater(), Math.max(0, Math.min(quiet, left)));
      return;
    }
    this.#later.delete(hex);
    if (this.#providing.has(hex) || !this.#o.running()) return;
    this.#providing.add(hex);
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    (async () => {
      const signal = AbortSignal.any([
        AbortSignal.timeout(this.#o.timeoutMs ?? 120_000),
        this.#stopping.signal,
      ]);
      // Announcements run 8 at a time: peers rate-limit ADD_PROVIDER (docs/security.md).
      await this.#slots.run(async () => {
        for await (const _ of this.#o.node().services.dht.provide(narCid(narHash), { signal })) {
          /* drain */
        }
      });
    })().then(
      () => this.#o.emit("provide:done", { narHash: hex, ms: ms() }),
      (e) =>
        this.#o.emit("provide:done", {
          narHash: hex,
          ms: ms(),
          error: String((e as Error).message),
        }),
    ).finally(() => this.#providing.delete(hex));
  }

  #flushLater(): void {
    const due = [...this.#later.values()];
    this.#later.clear();
    for (const h of due) this.provide(h);
  }

  /** Stops republishing the record for `narHash` (it expires). */
  async unprovide(narHash: Uint8Array): Promise<void> {
    this.#later.delete(hexEncode(narHash));
    if (!this.#o.running()) return;
    await this.#o.node().services.dht.cancelReprovide(narCid(narHash)).catch(() => {});
  }
}
