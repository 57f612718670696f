import { assert, assertEquals } from "@std/assert";
import { combineWithPeers, type PeerRaceInit } from "./_peer_race.ts";
import type { Resolution } from "./resolver.ts";

const found = (item: string, cacheUrl: string): Resolution => ({
  kind: "found",
  storePath: item,
  text: `StorePath: ${item}\n`,
  cacheUrl,
  narHash: "sha256:x",
  narSize: 1,
});
const missing = (item: string, transient = false): Resolution => ({
  kind: "missing",
  storePath: item,
  reason: transient ? "server down" : "not found",
  ...(transient ? { transient } : {}),
});
const never = <T>() => new Promise<T>(() => {});

/** Records the calls a combination makes. */
function recorder(init: Partial<PeerRaceInit>) {
  const calls: string[] = [];
  const full: PeerRaceInit = {
    mode: "race",
    noServers: false,
    headStartMs: 5,
    cached: () => undefined,
    servers: () => never(),
    peers: () => never(),
    ...init,
  };
  return {
    calls,
    init: {
      ...full,
      servers: (items: string[], signal: AbortSignal | undefined) => {
        calls.push(`servers ${items.join(",")}`);
        return full.servers(items, signal);
      },
      peers: (items: string[], dht: boolean) => {
        calls.push(`peers${dht ? "+dht" : ""} ${items.join(",")}`);
        return full.peers(items, dht);
      },
    } satisfies PeerRaceInit,
  };
}

Deno.test("race: peers that answer everything first end the batch and abort the servers", async () => {
  let serverSignal: AbortSignal | undefined;
  const r = recorder({
    servers: (_items, signal) => {
      serverSignal = signal;
      return never(); // a slow upstream
    },
    peers: (items) => Promise.resolve(new Map(items.map((i) => [i, found(i, "p2p://")]))),
  });
  const out = await combineWithPeers(["a", "b"], r.init);
  assertEquals([...out.values()].map((x) => x.kind === "found" && x.cacheUrl), [
    "p2p://",
    "p2p://",
  ]);
  assert(serverSignal?.aborted, "the server requests are aborted");
  assertEquals(r.calls, ["servers a,b", "peers a,b"]);
});

Deno.test("race: servers that answer everything within the head start cost the peers nothing", async () => {
  const r = recorder({
    servers: (items) => Promise.resolve(new Map(items.map((i) => [i, found(i, "https://s")]))),
    peers: () => never(), // peers that never answer
  });
  const out = await combineWithPeers(["a"], r.init);
  const a = out.get("a")!;
  assertEquals(a.kind === "found" && a.cacheUrl, "https://s");
  await new Promise((resolve) => setTimeout(resolve, 20)); // past the head start
  assertEquals(r.calls, ["servers a"], "the peers were never asked");
});

Deno.test("race: servers that answer everything after the head start do not wait for the peers", async () => {
  const r = recorder({
    servers: (items) =>
      new Promise((resolve) =>
        setTimeout(() => resolve(new Map(items.map((i) => [i, found(i, "https://s")]))), 30)
      ),
    peers: () => never(), // asked, and never answer
  });
  const out = await combineWithPeers(["a"], r.init);
  const a = out.get("a")!;
  assertEquals(a.kind === "found" && a.cacheUrl, "https://s");
  assertEquals(r.calls, ["servers a", "peers a"]);
});

Deno.test("race: each item takes the first valid answer; what the caches hold asks nobody", async () => {
  const r = recorder({
    cached: (i) => (i === "c" ? found(i, "https://s") : undefined),
    servers: (items) =>
      Promise.resolve(
        new Map(items.map((i) => [i, i === "a" ? found(i, "https://s") : missing(i)])),
      ),
    peers: (items) =>
      Promise.resolve(new Map(items.filter((i) => i === "b").map((i) => [i, found(i, "p2p://")]))),
  });
  const out = await combineWithPeers(["a", "b", "c"], r.init);
  assertEquals(
    ["a", "b", "c"].map((i) => {
      const x = out.get(i)!;
      return x.kind === "found" ? x.cacheUrl : x.kind;
    }),
    ["https://s", "p2p://", "https://s"],
  );
  assertEquals(r.calls, ["servers a,b", "peers a,b"], "c came from the cache");
});

Deno.test("fallback: peers are asked only for what the servers did not give; the DHT only where they were down", async () => {
  const r = recorder({
    mode: "fallback",
    servers: (items) =>
      Promise.resolve(
        new Map(items.map((i) => [
          i,
          i === "a" ? found(i, "https://s") : missing(i, i === "down"),
        ])),
      ),
    peers: (items, dht) =>
      Promise.resolve(
        new Map(items.filter((i) => dht && i === "down").map((i) => [i, found(i, "p2p://")])),
      ),
  });
  const out = await combineWithPeers(["a", "gone", "down"], r.init);
  assertEquals(r.calls, ["servers a,gone,down", "peers gone,down", "peers+dht down"]);
  assertEquals(out.get("down")?.kind, "found");
  const gone = out.get("gone")!;
  assertEquals(gone.kind === "missing" && gone.reason, "not found; peers: none holds it");
});

Deno.test("no servers at all: the DHT is asked for what connected peers lack", async () => {
  const r = recorder({
    noServers: true,
    servers: (items) => Promise.resolve(new Map(items.map((i) => [i, missing(i)]))),
    peers: (items, dht) =>
      Promise.resolve(new Map(dht ? items.map((i) => [i, found(i, "p2p://")]) : [])),
  });
  const out = await combineWithPeers(["a"], r.init);
  assertEquals(out.get("a")?.kind, "found");
  assertEquals(r.calls, ["servers a", "peers a", "peers+dht a"]);
});
