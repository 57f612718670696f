import { assertEquals } from "@std/assert";
import type { PeerId, Stream } from "@libp2p/interface";
import type { P2pNode } from "./node.ts";
import { type ChannelHandlers, PeerChannel } from "./peer_channel.ts";
import { encodeFrame, readFrames, type WireMessage } from "./wire/mod.ts";

/** A stream whose incoming chunks the test pushes, and whose outgoing frames it reads. */
function fakeStream() {
  const incoming: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const sent: Uint8Array[] = [];
  const stream = {
    send(bytes: Uint8Array) {
      sent.push(bytes.slice());
      return true;
    },
    onDrain: () => Promise.resolve(),
    close: () => {
      ended = true;
      wake?.();
      return Promise.resolve();
    },
    abort: () => {
      ended = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (incoming.length > 0) yield incoming.shift()!;
        else if (ended) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
  return {
    stream: stream as unknown as Stream,
    push(message: WireMessage) {
      incoming.push(encodeFrame(message));
      wake?.();
    },
    async requests(): Promise<WireMessage[]> {
      const out: WireMessage[] = [];
      for await (const m of readFrames(sent, { accept: "requests" })) out.push(m);
      return out;
    },
  };
}

Deno.test("a cancelled block that was already on its way is dropped, not a protocol fault", async () => {
  const fake = fakeStream();
  const peerId = { toString: () => "peer-a" } as unknown as PeerId;
  const node = { dialProtocol: () => Promise.resolve(fake.stream) } as unknown as P2pNode;
  const delivered: number[] = [];
  const closed: { error?: Error; fault?: boolean }[] = [];
  const done = Promise.withResolvers<void>();
  const handlers: ChannelHandlers = {
    block: (_ch, m) => {
      delivered.push(m.index);
      if (m.index === 7) done.resolve();
    },
    blockError: () => {},
    closed: (_ch, error, fault) => {
      closed.push({ ...(error ? { error } : {}), ...(fault !== undefined ? { fault } : {}) });
      done.resolve();
    },
  };
  const channel = await PeerChannel.open(node, peerId, {
    maxMessageSize: 1 << 20,
    timeoutMs: 1000,
    handlers,
  });
  const narHash = new Uint8Array(32);
  const id = channel.requestBlocks(narHash, [5, 6, 7]);
  channel.cancel(id, [6]); // e.g. a duplicate arrived from another peer first
  const block = (index: number): WireMessage => ({
    kind: "block",
    id,
    index,
    encoding: "raw",
    rawLength: 4,
    data: Uint8Array.of(index, index, index, index),
  });
  // The responder had already started on 6: it comes anyway, in request order.
  fake.push(block(5));
  fake.push(block(6));
  fake.push(block(7));
  const timer = setTimeout(() => done.reject(new Error("no block 7 within 5 s")), 5000);
  await done.promise.finally(() => clearTimeout(timer));
  assertEquals(closed, [], "the channel stays open");
  assertEquals(delivered, [5, 7]);
  const requests = await fake.requests();
  assertEquals(requests.map((r) => r.kind), ["get-blocks", "cancel"]);
  // A block that was neither requested nor cancelled is still a fault.
  const faulted = Promise.withResolvers<void>();
  handlers.closed = (_ch, error, fault) => {
    closed.push({ ...(error ? { error } : {}), ...(fault !== undefined ? { fault } : {}) });
    faulted.resolve();
  };
  const other = channel.requestBlocks(narHash, [1, 2]);
  fake.push({ ...block(9), id: other });
  const timer2 = setTimeout(() => faulted.reject(new Error("no fault within 5 s")), 5000);
  await faulted.promise.finally(() => clearTimeout(timer2));
  assertEquals(closed.length, 1);
  assertEquals(closed[0]!.fault, true);
  assertEquals(/block 9 was not requested/.test(closed[0]!.error!.message), true);
});
