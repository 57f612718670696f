import { assertEquals, assertRejects } from "@std/assert";
import type { PeerId, Stream } from "@libp2p/interface";
import type { P2pNode } from "../node.ts";
import { encodeFrame, readFrames, type WireMessage } from "../wire/mod.ts";
import { type ChannelHandlers, LinkChannel } from "./channel.ts";
import { PeerLink } from "./peer_link.ts";
import type { BulkConnection, BulkDialer } from "./deno_bulk_dial.ts";

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

function setup(
  address = "/ip4/10.0.0.2/tcp/1/p2p/peer-a",
  bulk?: { policy: "lan"; dial: BulkDialer },
) {
  const fake = fakeStream();
  const peerId = {
    toString: () => address.slice(address.lastIndexOf("/") + 1),
  } as unknown as PeerId;
  const connection = {
    status: "open",
    remoteAddr: { toString: () => address },
    newStream: () => Promise.resolve(fake.stream),
  };
  const node = { getConnections: () => [connection] } as unknown as P2pNode;
  return {
    fake,
    open: () => PeerLink.open(node, peerId, { maxMessageSize: 1 << 20, timeoutMs: 1000, bulk }),
  };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("a cancelled block that was already on its way is dropped, not a protocol fault", async () => {
  const { fake, open } = setup();
  const link = await open();
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
  const channel = new LinkChannel(link, handlers);
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
  await within(done.promise, 5000, "block 7");
  assertEquals(closed, [], "the channel stays open");
  assertEquals(delivered, [5, 7]);
  const requests = await fake.requests();
  assertEquals(requests.map((r) => r.kind), ["get-blocks", "cancel"]);
  // A block that was neither requested nor cancelled is still a fault: the link resets
  // (a fault, penalised once by the link pool) and every channel on it hears of it.
  const linkFaults: boolean[] = [];
  link.onClose((_e, fault) => linkFaults.push(fault === true));
  const faulted = Promise.withResolvers<void>();
  handlers.closed = (_ch, error, fault) => {
    closed.push({ ...(error ? { error } : {}), ...(fault !== undefined ? { fault } : {}) });
    faulted.resolve();
  };
  const other = channel.requestBlocks(narHash, [1, 2]);
  fake.push({ ...block(9), id: other });
  await within(faulted.promise, 5000, "the fault");
  assertEquals(closed.length, 1);
  assertEquals(closed[0]!.fault, false, "the download does not penalise: the pool does, once");
  assertEquals(/block 9 was not requested/.test(closed[0]!.error!.message), true);
  assertEquals(link.closed, true);
  assertEquals(linkFaults, [true]);
});

Deno.test("late answers to requests that timed out are dropped, not faults; unknown ids are", async () => {
  const { fake, open } = setup();
  const link = await open();
  const a = new Uint8Array(32).fill(1);
  // The answers wait behind other items' blocks on the shared stream, past their timeouts.
  await assertRejects(() => link.have([a], 20), Error, "no have reply");
  await assertRejects(() => link.manifest(a, 20), Error, "no manifest reply");
  const [have, manifest] = await fake.requests();
  fake.push({ kind: "have-reply", id: have!.id, states: ["complete"] });
  fake.push({ kind: "not-found", id: manifest!.id, narHash: a });
  fake.push({ kind: "error", id: manifest!.id, code: "busy", message: "late" });
  // Still usable: a fresh request gets its answer.
  const again = link.have([a], 5000);
  const requests = await fake.requests();
  fake.push({ kind: "have-reply", id: requests.at(-1)!.id, states: ["none"] });
  assertEquals(await within(again, 5000, "have"), ["none"]);
  assertEquals(link.closed, false);
  // A reply to an id never sent is a fault.
  const closed = Promise.withResolvers<boolean>();
  link.onClose((_e, fault) => closed.resolve(fault === true));
  fake.push({ kind: "have-reply", id: 999, states: ["none"] });
  assertEquals(await within(closed.promise, 5000, "the reset"), true);
});

Deno.test("one link carries several items: have, whole NARs and blocks, routed by request id", async () => {
  const { fake, open } = setup();
  const link = await open();
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  const have = link.have([a, b], 5000);
  const nars: string[] = [];
  const narsDone = link.nars([a, b], (i, reply) => nars.push(`${i}:${reply.kind}`), 5000);
  const got: number[] = [];
  const blocks = Promise.withResolvers<void>();
  const channel = new LinkChannel(link, {
    block: (_ch, m) => {
      got.push(m.index);
      blocks.resolve();
    },
    blockError: () => {},
    closed: () => {},
  });
  const blockId = channel.requestBlocks(b, [3]);
  const requests = await fake.requests();
  assertEquals(requests.map((r) => r.kind), ["have", "get-nars", "get-blocks"]);
  const [haveId, narsId] = [requests[0]!.id, requests[1]!.id];
  // Replies of different requests interleave freely.
  fake.push({
    kind: "block",
    id: blockId,
    index: 3,
    encoding: "raw",
    rawLength: 1,
    data: Uint8Array.of(3),
  });
  fake.push({
    kind: "nar",
    id: narsId,
    narHash: a,
    encoding: "raw",
    rawLength: 2,
    data: Uint8Array.of(9, 9),
  });
  fake.push({ kind: "have-reply", id: haveId, states: ["complete", "none"] });
  fake.push({ kind: "not-found", id: narsId, narHash: b });
  assertEquals(await within(have, 5000, "have"), ["complete", "none"]);
  await within(narsDone, 5000, "nars");
  await within(blocks.promise, 5000, "block");
  assertEquals(nars, ["0:nar", "1:not-found"]);
  assertEquals(got, [3]);
  // Closing a download's channel withdraws its requests but keeps the link for others.
  channel.requestBlocks(b, [4, 5]);
  channel.close();
  assertEquals(link.closed, false);
  const after = await fake.requests();
  assertEquals(after.slice(-1)[0]!.kind, "cancel");
});

Deno.test("a NAR reply for a hash that was not asked for resets the link", async () => {
  const { fake, open } = setup();
  const link = await open();
  const a = new Uint8Array(32).fill(1);
  const faults: boolean[] = [];
  link.onClose((_e, fault) => faults.push(fault === true));
  const nars = link.nars([a], () => {}, 5000);
  const [req] = await fake.requests();
  fake.push({
    kind: "nar",
    id: req!.id,
    narHash: new Uint8Array(32).fill(7),
    encoding: "raw",
    rawLength: 0,
    data: new Uint8Array(0),
  });
  await assertRejects(() => within(nars, 5000, "the reset"));
  assertEquals(faults, [true]);
});

/** An in-memory bulk lane: the test reads what the link sent on it and pushes answers. */
function fakeLane() {
  const sent: Uint8Array[] = [];
  const incoming: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const dialed = Promise.withResolvers<void>();
  const connection: BulkConnection = {
    source: (async function* () {
      for (;;) {
        if (incoming.length > 0) yield incoming.shift()!;
        else if (closed) return;
        else await new Promise<void>((r) => (wake = r));
      }
    })(),
    send: (bytes) => {
      sent.push(bytes.slice());
      return Promise.resolve();
    },
    close: () => {
      closed = true;
      wake?.();
    },
  };
  const dial: BulkDialer = (host, port, ticket) => {
    assertEquals([host, port, ticket.length], ["10.0.0.2", 4711, 32]);
    dialed.resolve();
    return Promise.resolve(connection);
  };
  return {
    dial,
    dialed: dialed.promise,
    get closed() {
      return closed;
    },
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

Deno.test("bulk lane: data requests go on it; a bad answer there moves what is left to the stream, with no fault", async () => {
  const lane = fakeLane();
  const { fake, open } = setup("/ip4/10.0.0.2/tcp/1/p2p/peer-a", {
    policy: "lan",
    dial: lane.dial,
  });
  const link = await open();
  assertEquals(link.bulk.state, "opening");
  const [ask] = await within(
    waitFor(() => fake.requests(), (r) => r.length > 0),
    5000,
    "bulk-open",
  );
  assertEquals(ask!.kind, "bulk-open");
  fake.push({ kind: "bulk-ticket", id: ask!.id, port: 4711, ticket: new Uint8Array(32).fill(7) });
  await within(lane.dialed, 5000, "the dial");
  await within(waitFor(() => Promise.resolve(link.bulk.state), (s) => s === "open"), 5000, "open");

  const hashes = [1, 2, 3].map((n) => new Uint8Array(32).fill(n));
  const replies: { index: number; bulk: boolean; byte: number }[] = [];
  const all = link.nars(hashes, (index, reply) => {
    if (reply.kind !== "nar") throw new Error(reply.kind);
    replies.push({ index, bulk: reply.bulk !== undefined, byte: reply.message.data[0]! });
    if (index === 0) reply.bulk?.distrust("NAR does not match its NarHash");
  }, 5000);
  const [getNars] = await within(
    waitFor(() => lane.requests(), (r) => r.length > 0),
    5000,
    "get-nars",
  );
  assertEquals(getNars!.kind, "get-nars");
  const nar = (id: number, n: number): WireMessage => ({
    kind: "nar",
    id,
    narHash: hashes[n]!,
    encoding: "raw",
    rawLength: 1,
    data: Uint8Array.of(n),
  });
  lane.push(nar(getNars!.id, 0));
  // The consumer distrusted the lane: it is closed and the two NARs left are asked on the stream.
  const again = await within(
    waitFor(() => fake.requests(), (r) => r.some((m) => m.kind === "get-nars")),
    5000,
    "the request again on the stream",
  );
  const onStream = again.find((m) => m.kind === "get-nars")!;
  assertEquals(onStream.kind === "get-nars" && onStream.narHashes, hashes.slice(1));
  assertEquals(lane.closed, true);
  fake.push(nar(onStream.id, 1));
  fake.push(nar(onStream.id, 2));
  await within(all, 5000, "every answer");
  assertEquals(replies, [
    { index: 0, bulk: true, byte: 0 },
    { index: 1, bulk: false, byte: 1 },
    { index: 2, bulk: false, byte: 2 },
  ]);
  assertEquals(link.closed, false, "the link (and the peer's standing) is untouched");
  assertEquals(link.bulk.state, "closed");
  assertEquals(link.bulk.error, "NAR does not match its NarHash");
  link.close();
});

Deno.test("bulk lane: not asked for on a connection the policy excludes", async () => {
  const { fake, open } = setup("/ip4/203.0.113.9/tcp/1/p2p/peer-b", {
    policy: "lan",
    dial: () => Promise.reject(new Error("must not dial")),
  });
  const link = await open();
  assertEquals(link.bulk.state, "none");
  await link.have([new Uint8Array(32)], 50).catch(() => {});
  assertEquals((await fake.requests()).map((r) => r.kind), ["have"]);
  link.close();
});

/** Polls `get` (on each macrotask) until `ok` holds; bounded by the caller's `within`. */
async function waitFor<T>(get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
}
