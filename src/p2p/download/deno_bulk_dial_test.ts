import { assertEquals, assertRejects } from "@std/assert";
import { dialBulk } from "./deno_bulk_dial.ts";
import {
  BULK_ACCEPTED,
  BULK_HELLO_MAGIC,
  encodeFrame,
  readFrames,
  type WireMessage,
} from "../wire/mod.ts";

/**
 * A TCP peer on 127.0.0.1 that accepts one lane, then writes `writes` one by
 * one (each its own write, so the requester's reads see those splits) and
 * closes.
 */
function lanePeer(writes: Uint8Array[]): { port: number; done: Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const conn = await listener.accept();
    listener.close();
    try {
      const hello = new Uint8Array(BULK_HELLO_MAGIC.length + 32);
      for (let at = 0; at < hello.length;) at += (await conn.read(hello.subarray(at)))!;
      await conn.write(new Uint8Array([BULK_ACCEPTED]));
      for (const w of writes) {
        for (let at = 0; at < w.length;) at += await conn.write(w.subarray(at));
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      conn.close();
    }
  })();
  return { port: (listener.addr as Deno.NetAddr).port, done };
}

const ticket = new Uint8Array(32).fill(7);

function block(id: number, index: number, size: number): WireMessage {
  const data = new Uint8Array(size).map((_, i) => (i * 31 + index) & 0xff);
  return { kind: "block", id, index, encoding: "raw", rawLength: size, data };
}

Deno.test("dialBulk: each frame arrives as one chunk, however the peer's writes split it", async () => {
  const a = encodeFrame(block(1, 0, 256 * 1024));
  const b = encodeFrame(block(1, 1, 1000));
  const c = encodeFrame({ kind: "cancel", id: 2, indexes: [3] });
  const all = new Uint8Array([...a, ...b, ...c]);
  // Splits inside a header, inside a body, and a write holding the end of one frame and the
  // start of the next.
  const cuts = [2, 70_000, a.length + 3, a.length + 500, all.length];
  const writes = cuts.map((end, i) => all.slice(i === 0 ? 0 : cuts[i - 1], end));
  const peer = lanePeer(writes);
  const lane = await dialBulk("127.0.0.1", peer.port, ticket, {
    signal: AbortSignal.timeout(5000),
  });
  const chunks: Uint8Array[] = [];
  for await (const chunk of lane.source) chunks.push(chunk);
  lane.close();
  await peer.done;
  assertEquals(chunks.map((c) => c.length), [a.length, b.length, c.length]);
  assertEquals(chunks, [a, b, c]);
});

Deno.test("dialBulk: a frame longer than maxMessageSize is not allocated; the decoder refuses it", async () => {
  const frame = encodeFrame(block(1, 0, 64 * 1024));
  const peer = lanePeer([frame]);
  const lane = await dialBulk("127.0.0.1", peer.port, ticket, {
    signal: AbortSignal.timeout(5000),
    maxMessageSize: 1024,
  });
  const chunks: Uint8Array[] = [];
  for await (const chunk of lane.source) chunks.push(chunk);
  lane.close();
  await peer.done;
  assertEquals(chunks, [frame.subarray(0, 4)]);
  await assertRejects(
    async () => {
      for await (const _ of readFrames(chunks, { maxMessageSize: 1024 })) { /* none */ }
    },
    Error,
    "exceeds max_message_size 1024",
  );
});

Deno.test("dialBulk: a lane that ends inside a frame yields what came, and the decoder says so", async () => {
  const frame = encodeFrame(block(1, 0, 4096));
  const peer = lanePeer([frame.subarray(0, 1000)]);
  const lane = await dialBulk("127.0.0.1", peer.port, ticket, {
    signal: AbortSignal.timeout(5000),
  });
  const chunks: Uint8Array[] = [];
  for await (const chunk of lane.source) chunks.push(chunk);
  lane.close();
  await peer.done;
  assertEquals(chunks, [frame.subarray(0, 1000)]);
  await assertRejects(
    async () => {
      for await (const _ of readFrames(chunks)) { /* none */ }
    },
    Error,
    "stream ended inside a frame",
  );
});
