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
  emit: <K extends keyof ProviderEvents>(type: K, payload: ProviderEvents[K]) => void;
}

/** Announces and withdraws provider records. */
export class ProviderRecords {
  #o: ProviderRecordsInit;
  #slots = new Slots(8);
  #providing = new Set<string>();
  #stopping = new AbortController();

  /** Creates the announcer. */
  constructor(init: ProviderRecordsInit) {
    this.#o = init;
  }

  /** Aborts announcements in progress. */
  stop(): void {
    this.#stopping.abort(new Error("stopping"));
  }

  /** Publishes a provider record for `narHash` (not awaited; errors become events). */
  provide(narHash: Uint8Array): void {
    const hex = hexEncode(narHash);
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

  /** Stops republishing the record for `narHash` (it expires). */
  async unprovide(narHash: Uint8Array): Promise<void> {
    if (!this.#o.running()) return;
    await this.#o.node().services.dht.cancelReprovide(narCid(narHash)).catch(() => {});
  }
}
