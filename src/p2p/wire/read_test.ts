import { assert, assertEquals, assertRejects } from "@std/assert";
import { Uint8ArrayList } from "uint8arraylist";
import { randomBytes } from "../../../tests/support/random.ts";
import { encodeFrame, encodeFrameParts, readFrames, type WireMessage } from "./mod.ts";
import { WireError } from "./errors.ts";

const narHash = new Uint8Array(32).fill(3);
const data = randomBytes(100_000);
const messages: WireMessage[] = [
  { kind: "get-blocks", id: 1, narHash, indexes: [0, 1] },
  { kind: "block", id: 1, index: 0, encoding: "raw", rawLength: data.length, data },
  { kind: "error", id: 1, code: "not-available", message: "block 1 missing" },
];
const stream = new Uint8Array(messages.flatMap((m) => [...encodeFrame(m)]));

async function collect(source: AsyncIterable<unknown> | Iterable<unknown>, options = {}) {
  const out: WireMessage[] = [];
  // deno-lint-ignore no-explicit-any
  for await (const m of readFrames(source as any, options)) out.push(m);
  return out;
}

Deno.test("readFrames reads Uint8Array chunks of any size", async () => {
  for (const step of [1, 7, 4096, stream.length]) {
    const source = async function* () {
      for (let i = 0; i < stream.length; i += step) yield stream.subarray(i, i + step);
    };
    assertEquals(await collect(source()), messages, `chunks of ${step}`);
  }
});

Deno.test("readFrames reads Uint8ArrayList chunks (libp2p streams) and sync iterables", async () => {
  async function* source() {
    for (let i = 0; i < stream.length; i += 30_000) {
      const list = new Uint8ArrayList();
      // Several pieces per chunk, as yamux delivers them.
      for (let j = i; j < Math.min(i + 30_000, stream.length); j += 7_000) {
        list.append(stream.slice(j, Math.min(j + 7_000, i + 30_000, stream.length)));
      }
      yield list;
    }
  }
  assertEquals(await collect(source()), messages);
  // A responder's encodeFrameParts output is itself a valid source.
  const parts = messages.flatMap((m) => encodeFrameParts(m));
  assertEquals(await collect(parts), messages);
  // Anything with byteLength and subarray() works too.
  const wrapped = [{ byteLength: stream.length, subarray: () => stream }];
  assertEquals(await collect(wrapped), messages);
});

Deno.test("readFrames throws WireError when the stream ends inside a frame or breaks the protocol", async () => {
  await assertRejects(
    () => collect([stream.subarray(0, stream.length - 1)]),
    WireError,
    "stream ended inside a frame",
  );
  await assertRejects(
    () => collect([stream], { accept: "requests" }),
    WireError,
    "BLOCK is not a request message",
  );
  await assertRejects(
    () => collect([stream], { maxMessageSize: 50_000 }),
    WireError,
    "frame length 100015 exceeds max_message_size 50000 (at stream byte 54)",
  );
});

Deno.test("readFrames stops on abort while the source is stalled, and closes the source", async () => {
  const controller = new AbortController();
  let closed = false;
  let unblock: (() => void) | undefined;
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      let sent = false;
      return {
        next() {
          if (!sent) {
            sent = true;
            return Promise.resolve({ done: false, value: encodeFrame(messages[0]!) });
          }
          // A peer that goes silent: this never resolves unless the test unblocks it. The
          // reader is now waiting on it, which is when the deadline fires.
          queueMicrotask(() => controller.abort(new Error("request timed out")));
          return new Promise((resolve) => {
            unblock = () => resolve({ done: true, value: undefined });
          });
        },
        return() {
          closed = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
  const seen: WireMessage[] = [];
  const reading = (async () => {
    for await (const m of readFrames(source, { signal: controller.signal })) {
      seen.push(m);
    }
  })();
  await assertRejects(() => reading, Error, "request timed out");
  assertEquals(seen, [messages[0]]);
  assert(closed, "the source was told to close");
  unblock?.();
});
