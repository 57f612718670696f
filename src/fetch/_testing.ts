/**
 * Flavours for unit tests, without sockets: narinfos served from a pre-filled
 * narinfo cache (the resolver asks no server while their entries are fresh)
 * and NARs from an in-memory peer source; trust is real (keys, ACLs).
 *
 * @example
 * ```ts
 * import { memoryFlavour } from "./_testing.ts";
 * declare const text: string, nar: Uint8Array;
 * const nix = await memoryFlavour(
 *   { flavour: "nix", storeDir: "/nix/store", keys: [] },
 *   { upstream: "https://cache.invalid", narinfos: { "0123456789abcdfghijklmnpqrsvwxyz": text }, peers: nar },
 * );
 * ```
 * @module
 */
import { memoryCacheStore, NarinfoCache } from "../http/narinfo_cache.ts";
import { createFlavour, type Flavour, type FlavourTrust } from "./flavour.ts";
import type { TransferEmitter } from "./events.ts";
import type { SourceFactory } from "./source.ts";

/** Peers that hold `bytes` as the NAR of every target. */
export function memoryPeers(bytes: Uint8Array): SourceFactory {
  return {
    async *sources() {
      yield {
        kind: "p2p",
        url: "memory-peer",
        size: bytes.length,
        open: (offset: number) =>
          Promise.resolve({
            stream: ReadableStream.from([bytes.subarray(offset)]),
            transferred: () => bytes.length - offset,
          }),
      };
    },
  };
}

/**
 * A flavour over `trust` whose narinfo cache holds `narinfos` (hash part →
 * text) as the answers of `upstream`, and whose peers hold `peers`.
 */
export async function memoryFlavour(
  trust: FlavourTrust,
  options: {
    upstream: string;
    narinfos: Record<string, string>;
    peers?: Uint8Array | undefined;
    emit?: TransferEmitter;
  },
): Promise<Flavour> {
  const cache = new NarinfoCache(memoryCacheStore());
  const now = Date.now() / 1000;
  for (const [hashPart, text] of Object.entries(options.narinfos)) {
    await cache.put(options.upstream, hashPart, { kind: "found", text, fetchedAt: now, ttl: 3600 });
  }
  return createFlavour({
    ...trust,
    cache,
    settings: {
      narinfoTtl: 3600,
      negativeTtl: 60,
      errorTtl: 60,
      connectTimeout: 1,
      stallTimeout: 1,
      parallelism: 1,
    },
    http: { preference: "auto", engine: "builtin", connectTimeout: 1, stallTimeout: 1 },
    p2p: options.peers ? memoryPeers(options.peers) : undefined,
    emit: options.emit ?? (() => {}),
  });
}
