/**
 * How a batch of narinfo answers is put together from the servers and the
 * peers (docs/protocol.md §6.5), as a function over three ways to ask:
 *
 * - `race`: what the caches already hold answers at once; the rest goes to
 *   the servers and, after a head start of `headStartMs` (default 50 ms, or
 *   as soon as the servers end without every answer), to the connected peers
 *   too. Servers that answer everything within the head start (a near server)
 *   cost the peers nothing; when the peers answered everything first, the
 *   server requests are aborted; when the servers did, the peers' answers are
 *   not waited for. Otherwise both are waited for, and the first valid answer
 *   per item wins.
 * - `fallback`: the servers first; the connected peers for what they did not
 *   give.
 *
 * In both, items still unanswered whose servers were unreachable (or when
 * there is no server) are looked up in the DHT: a plain "not found" from a
 * server does not cost a DHT walk.
 *
 * @example
 * ```ts
 * import { combineWithPeers } from "./_peer_race.ts";
 * declare const ask: Parameters<typeof combineWithPeers>[1];
 * const answers = await combineWithPeers(["/gnu/store/…-a"], ask);
 * ```
 * @module
 */
import type { Resolution } from "./resolver.ts";

/** The ways to ask, and the mode. */
export interface PeerRaceInit {
  mode: "race" | "fallback";
  /** No server to ask at all. */
  noServers: boolean;
  /** An answer the caches hold now (servers in order, then peers), without network. */
  cached(item: string): Resolution | undefined;
  /** The servers' answers for `items` (every item answered). */
  servers(items: string[], signal: AbortSignal | undefined): Promise<Map<string, Resolution>>;
  /** What peers hold of `items` (found answers only); `dht` also walks the DHT. */
  peers(items: string[], dht: boolean): Promise<Map<string, Resolution>>;
  signal?: AbortSignal | undefined;
  /** How long the servers have alone before the peers are asked too (race). Default 50 ms. */
  headStartMs?: number;
}

/** Every item's answer, found or missing (see the module documentation). */
export async function combineWithPeers(
  items: string[],
  init: PeerRaceInit,
): Promise<Map<string, Resolution>> {
  const result = new Map<string, Resolution>();
  let rest = items;
  if (init.mode === "race") {
    rest = [];
    for (const item of items) {
      const hit = init.cached(item);
      if (hit?.kind === "found") result.set(item, hit);
      else rest.push(item);
    }
    if (rest.length === 0) return result;
    await race(rest, init, result);
  } else {
    for (const [item, r] of await init.servers(rest, init.signal)) result.set(item, r);
    const missing = rest.filter((i) => result.get(i)?.kind !== "found");
    if (missing.length > 0) merge(result, await init.peers(missing, false).catch(() => new Map()));
  }
  // Unreachable servers: the DHT for what no server or connected peer gave.
  const down = rest.filter((i) => {
    const r = result.get(i);
    return r?.kind !== "found" && (init.noServers || r?.transient === true);
  });
  if (down.length > 0) merge(result, await init.peers(down, true).catch(() => new Map()));
  for (const item of rest) {
    const r = result.get(item);
    if (r?.kind === "missing") {
      result.set(item, { ...r, reason: `${r.reason}; peers: none holds it` });
    }
  }
  return result;
}

async function race(
  items: string[],
  init: PeerRaceInit,
  result: Map<string, Resolution>,
): Promise<void> {
  const stop = new AbortController();
  const signal = init.signal ? AbortSignal.any([init.signal, stop.signal]) : stop.signal;
  const complete = (r: Map<string, Resolution>) => items.every((i) => r.get(i)?.kind === "found");
  const servers = init.servers(items, signal).then((r) => ({ from: "servers" as const, r }));
  // The peers start after the head start, or at once when the servers end without every answer.
  const start = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => start.resolve(true), init.headStartMs ?? 50);
  servers.then((s) => start.resolve(!complete(s.r)), () => start.resolve(false));
  const peers = start.promise.then((ask) => {
    clearTimeout(timer);
    return ask ? init.peers(items, false) : new Map<string, Resolution>();
  }).then(
    (r) => ({ from: "peers" as const, r }),
    () => ({ from: "peers" as const, r: new Map<string, Resolution>() }),
  );
  const first = await Promise.race([servers, peers]);
  if (first.from === "peers") {
    merge(result, first.r);
    if (complete(first.r)) {
      stop.abort(new Error("every narinfo came from peers"));
      servers.catch(() => {});
      return;
    }
    const fromServers = (await servers).r;
    for (const item of items) {
      if (!result.has(item)) result.set(item, fromServers.get(item)!);
    }
    return;
  }
  for (const [item, r] of first.r) result.set(item, r);
  if (complete(first.r)) return; // the peers' answers are cached when they come
  merge(result, (await peers).r);
}

/** Puts the found answers of `from` over the missing ones of `into`. */
function merge(into: Map<string, Resolution>, from: Map<string, Resolution>): void {
  for (const [item, r] of from) {
    if (r.kind === "found" && into.get(item)?.kind !== "found") into.set(item, r);
  }
}
