import type { Connection, PeerId } from "@libp2p/interface";
import { assertEquals } from "@std/assert";
import { openPreferDirect } from "./prefer_direct.ts";

const peer = { toString: () => "peer-a", equals: (o: unknown) => o === peer } as unknown as PeerId;

function conn(address: string, relayed: boolean, opened: string[] = []): Connection {
  return {
    remotePeer: peer,
    remoteAddr: { toString: () => address },
    status: "open",
    limits: relayed ? { bytes: 1n << 20n } : undefined,
    newStream: (protocol: string) => {
      opened.push(`${address} ${protocol}`);
      return Promise.resolve({});
    },
  } as unknown as Connection;
}

/** A node with these connections; `later` opens (connection:open) after `ms`. */
function fakeNode(connections: Connection[], later?: { conn: Connection; ms: number }) {
  const target = new EventTarget();
  if (later) {
    setTimeout(() => {
      connections.push(later.conn);
      target.dispatchEvent(new CustomEvent("connection:open", { detail: later.conn }));
    }, later.ms);
  }
  return {
    getConnections: () => connections,
    dial: () => Promise.resolve(connections[0]!),
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target),
  } as unknown as Parameters<typeof openPreferDirect>[0];
}

Deno.test("a direct connection is used when there is one", async () => {
  const opened: string[] = [];
  const node = fakeNode([conn("/relay/p2p-circuit", true, opened), conn("/direct", false, opened)]);
  const { connection } = await openPreferDirect(node, peer, "/p", { waitMs: 1000 });
  assertEquals(connection.remoteAddr.toString(), "/direct");
  assertEquals(opened, ["/direct /p"]);
});

Deno.test("a relayed-only peer is given time to become direct (DCUtR)", async () => {
  const node = fakeNode([conn("/relay/p2p-circuit", true)], {
    conn: conn("/direct", false),
    ms: 50,
  });
  const { connection } = await openPreferDirect(node, peer, "/p", { waitMs: 2000 });
  assertEquals(connection.remoteAddr.toString(), "/direct");
});

Deno.test("without an upgrade the relay carries the stream, and the next open does not wait", async () => {
  const opened: string[] = [];
  const relayed = conn("/relay/p2p-circuit", true, opened);
  const node = fakeNode([relayed]);
  const t0 = performance.now();
  const first = await openPreferDirect(node, peer, "/p", { waitMs: 100 });
  assertEquals(first.connection, relayed);
  const waited = performance.now() - t0;
  const t1 = performance.now();
  await openPreferDirect(node, peer, "/p", { waitMs: 100 });
  assertEquals(waited >= 90, true, `waited ${waited} ms`);
  assertEquals(performance.now() - t1 < 50, true, "no second wait");
  assertEquals(opened, ["/relay/p2p-circuit /p", "/relay/p2p-circuit /p"]);
});
