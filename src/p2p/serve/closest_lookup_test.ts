import { assert, assertEquals } from "@std/assert";
import { type Candidate, closestCandidates } from "./regions.ts";
import { closestLookup, type LookupEvent } from "./closest_lookup.ts";

function peers(n: number): Candidate[] {
  let x = 12345;
  return Array.from({ length: n }, (_, i) => ({
    peer: `p${i}`,
    kadId: Uint8Array.from({ length: 32 }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24),
  }));
}

Deno.test("closestLookup stops once the 20 closest peers it knows have answered", async () => {
  const all = peers(500);
  const target = new Uint8Array(32).fill(7);
  const truth = closestCandidates(target, all, 40);
  const id = (c: Candidate) => ({ toString: () => c.peer });
  const byPeer = new Map(all.map((c) => [c.peer, c]));
  let pulled = 0;
  // A query that first hears of the 40 closest, then hears each of them answer, closest last;
  // then would go on (more answers) — it must not be read that far.
  async function* events(): AsyncGenerator<LookupEvent> {
    yield { name: "SEND_QUERY" };
    yield { name: "PEER_RESPONSE", from: id(all[400]!), closer: truth.map((c) => ({ id: id(c) })) };
    for (const c of [...truth.slice(0, 20)].reverse()) {
      pulled++;
      yield { name: "PEER_RESPONSE", from: id(c), closer: [] };
    }
    for (const c of truth.slice(20)) {
      pulled++;
      yield { name: "PEER_RESPONSE", from: id(c), closer: [] };
    }
  }
  const found = await closestLookup(events(), {
    target,
    self: "p499",
    candidate: (x: { toString(): string }) => byPeer.get(x.toString()),
  });
  assertEquals(pulled, 20, "stopped right after the 20 closest answered");
  assertEquals(
    found.closest.slice(0, 20).map((c) => c.peer),
    truth.slice(0, 20).map((c) => c.peer),
  );
  assert(found.closest.some((c) => c.peer === "p400"), "the first responder answered too");
  assertEquals(found.heard.map((c) => c.peer), truth.slice(20).map((c) => c.peer));
});

Deno.test("closestLookup takes a query that ends by itself (fewer peers than 20) as it is", async () => {
  const all = peers(5);
  const target = new Uint8Array(32);
  const id = (c: Candidate) => ({ toString: () => c.peer });
  const byPeer = new Map(all.map((c) => [c.peer, c]));
  async function* events(): AsyncGenerator<LookupEvent> {
    yield { name: "PEER_RESPONSE", from: id(all[0]!), closer: all.map((c) => ({ id: id(c) })) };
    yield { name: "PEER_RESPONSE", from: id(all[1]!), closer: [] };
    yield { name: "FINAL_PEER", peer: { id: id(all[2]!) } };
  }
  const found = await closestLookup(events(), {
    target,
    self: all[4]!.peer,
    candidate: (x: { toString(): string }) => byPeer.get(x.toString()),
  });
  assertEquals(found.closest.map((c) => c.peer).sort(), ["p0", "p1", "p2"]);
  assertEquals(found.heard.map((c) => c.peer), ["p3"]);
});
