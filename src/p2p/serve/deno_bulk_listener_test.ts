import { assertEquals } from "@std/assert";
import type { Connection } from "@libp2p/interface";
import { BULK_ACCEPTED, BULK_HELLO_MAGIC } from "../wire/mod.ts";
import { BulkListener, listenHosts } from "./deno_bulk_listener.ts";
import type { ServeChannel } from "./block_server.ts";

const connection = (address: string, peer = "peer-a") =>
  ({
    remoteAddr: { toString: () => address },
    remotePeer: { toString: () => peer },
  }) as unknown as Connection;

function listener(init: { handshakeTimeoutMs?: number; maxHandshakes?: number } = {}) {
  const served: string[] = [];
  const bulk = new BulkListener({
    hosts: ["127.0.0.1"],
    port: 0,
    server: {
      serveChannel: async (channel: ServeChannel, peer: string) => {
        served.push(peer);
        for await (const _ of channel.source) { /* until the client closes */ }
      },
    },
    allowed: () => true,
    compress: () => false,
    ...init,
  });
  return { bulk, served };
}

/** Whether the listener closed the connection: the next read ends (bounded by the test's timer). */
async function closedByPeer(conn: Deno.Conn, ms = 5000): Promise<boolean> {
  const timer = setTimeout(() => conn.close(), ms);
  try {
    return (await conn.read(new Uint8Array(1))) === null;
  } catch {
    return false; // our own timer closed it: the listener did not
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("bulk listener: a good ticket opens a lane for its peer, once", async () => {
  await using l = {
    ...listener(),
    [Symbol.asyncDispose]() {
      return this.bulk.stop();
    },
  };
  await l.bulk.start();
  const offer = l.bulk.offer(connection("/ip4/127.0.0.1/tcp/4001/p2p/peer-a"))!;
  const hello = new Uint8Array([...BULK_HELLO_MAGIC, ...offer.ticket]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: offer.port });
  await conn.write(hello);
  const answer = new Uint8Array(1);
  assertEquals(await conn.read(answer), 1);
  assertEquals(answer[0], BULK_ACCEPTED);
  conn.close();
  // The same ticket again is refused: the connection is closed without an answer.
  const again = await Deno.connect({ hostname: "127.0.0.1", port: offer.port });
  await again.write(hello);
  assertEquals(await closedByPeer(again), true);
  again.close();
  assertEquals(l.served, ["peer-a"]);
});

Deno.test("bulk listener: no lane on relayed connections; wrong magic and silence are closed", async () => {
  const { bulk } = listener({ handshakeTimeoutMs: 200 });
  await bulk.start();
  try {
    assertEquals(bulk.offer(connection("/ip4/10.0.0.1/tcp/1/p2p/r/p2p-circuit/p2p/a")), undefined);
    const offer = bulk.offer(connection("/ip4/127.0.0.1/tcp/4001/p2p/peer-a"))!;
    const wrong = await Deno.connect({ hostname: "127.0.0.1", port: offer.port });
    await wrong.write(new Uint8Array([...new TextEncoder().encode("GP2PXXXX"), ...offer.ticket]));
    assertEquals(await closedByPeer(wrong), true);
    wrong.close();
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: offer.port });
    assertEquals(await closedByPeer(silent), true, "closed after the handshake timeout");
    silent.close();
  } finally {
    await bulk.stop();
  }
});

Deno.test("bulk listener: handshakes in progress are bounded", async () => {
  const { bulk } = listener({ maxHandshakes: 1, handshakeTimeoutMs: 10_000 });
  await bulk.start();
  const port = bulk.port!;
  const first = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    // The first holds the only handshake slot (it sends nothing): the second is closed at once.
    const deadline = Date.now() + 5000;
    while (bulk.handshakes < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(bulk.handshakes, 1);
    const second = await Deno.connect({ hostname: "127.0.0.1", port });
    assertEquals(await closedByPeer(second, 2000), true);
    second.close();
  } finally {
    first.close();
    await bulk.stop();
  }
});

Deno.test("the bulk lane listens on the TCP hosts of `listen`", () => {
  assertEquals(
    listenHosts(["/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"]),
    ["0.0.0.0", "::"],
  );
});
