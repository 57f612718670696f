/**
 * DHT provider records for narinfos (docs/protocol.md §6.4): for each item
 * this node seeds whose verified narinfo it holds, a record under the
 * narinfo key of its store path's hash part, so a node whose upstream is
 * unreachable finds holders of the narinfo beyond its connected peers.
 * Announced once per item (kad-dht republishes), 4 at a time.
 *
 * @example
 * ```ts
 * const announcer = new NarinfoAnnouncer({ node: () => node, running: () => true, holdings, itemOf, emit });
 * announcer.announce(["/gnu/store/…-hello-2.12"]); // in the background
 * ```
 * @module
 */
import { Slots } from "../dht/slots.ts";
import type { P2pNode } from "../node.ts";
import { narinfoCid } from "./key.ts";
import { MAX_HASH_PARTS, type NarinfoFlavour } from "./messages.ts";
import type { NarinfoHoldings } from "./server.ts";

/** Events of the announcer. */
export interface NarinfoAnnounceEvents {
  "narinfo:announced": { hashPart: string; ms: number; error?: string };
}

/** Options of {@linkcode NarinfoAnnouncer}. */
export interface NarinfoAnnouncerInit {
  node: () => P2pNode;
  running: () => boolean;
  holdings: () => NarinfoHoldings | undefined;
  /** The flavour and hash part of a store path, or undefined if it is in neither store. */
  itemOf: (storePath: string) => { flavour: NarinfoFlavour; hashPart: string } | undefined;
  /** Bound on one announcement. Default 120 s. */
  timeoutMs?: number;
  emit: <K extends keyof NarinfoAnnounceEvents>(type: K, payload: NarinfoAnnounceEvents[K]) => void;
}

/** Announces held narinfos of seeded items. */
export class NarinfoAnnouncer {
  #o: NarinfoAnnouncerInit;
  #slots = new Slots(4);
  #done = new Set<string>();
  #stopping = new AbortController();

  /** Creates the announcer. */
  constructor(init: NarinfoAnnouncerInit) {
    this.#o = init;
  }

  /** Aborts announcements in progress. */
  stop(): void {
    this.#stopping.abort(new Error("stopping"));
  }

  /** Announces the narinfos held of these seeded store paths (in the background). */
  announce(storePaths: readonly (string | undefined)[]): void {
    const byFlavour = new Map<NarinfoFlavour, string[]>();
    for (const path of storePaths) {
      const item = path === undefined ? undefined : this.#o.itemOf(path);
      if (!item || this.#done.has(item.hashPart)) continue;
      this.#done.add(item.hashPart);
      const list = byFlavour.get(item.flavour) ?? [];
      list.push(item.hashPart);
      byFlavour.set(item.flavour, list);
    }
    for (const [flavour, hashParts] of byFlavour) {
      void this.#announce(flavour, hashParts).catch(() => {});
    }
  }

  async #announce(flavour: NarinfoFlavour, hashParts: string[]): Promise<void> {
    for (let at = 0; at < hashParts.length; at += MAX_HASH_PARTS) {
      const batch = hashParts.slice(at, at + MAX_HASH_PARTS);
      const held = await this.#o.holdings()?.held(flavour, batch, undefined);
      await Promise.all(batch.map((h, i) => {
        if (held?.[i] === undefined) {
          this.#done.delete(h); // known later, announced then
          return;
        }
        return this.#provide(h);
      }));
    }
  }

  async #provide(hashPart: string): Promise<void> {
    if (!this.#o.running()) return;
    const t0 = performance.now();
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.#o.timeoutMs ?? 120_000),
      this.#stopping.signal,
    ]);
    try {
      await this.#slots.run(async () => {
        for await (
          const _ of this.#o.node().services.dht.provide(narinfoCid(hashPart), { signal })
        ) {
          /* drain */
        }
      });
      this.#o.emit("narinfo:announced", { hashPart, ms: Math.round(performance.now() - t0) });
    } catch (e) {
      this.#o.emit("narinfo:announced", {
        hashPart,
        ms: Math.round(performance.now() - t0),
        error: (e as Error).message,
      });
    }
  }
}
