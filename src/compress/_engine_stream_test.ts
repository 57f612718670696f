import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { type DecodeEngine, engineStream } from "./_engine_stream.ts";
import { identityEngine } from "./_identity.ts";
import { DecompressionError, OutputLimitError } from "./errors.ts";

/** An engine that turns each input byte into `factor` output bytes, counting its work. */
function inflating(factor: number) {
  const stats = { produced: 0, destroyed: [] as unknown[], writes: 0 };
  const inner = identityEngine();
  const engine: DecodeEngine = {
    write: (chunk) => {
      stats.writes++;
      return inner.write(chunk);
    },
    end: () => inner.end(),
    async read() {
      const chunk = await inner.read();
      if (chunk === null) return null;
      stats.produced += chunk.length * factor;
      return new Uint8Array(chunk.length * factor);
    },
    destroy(reason) {
      stats.destroyed.push(reason);
      inner.destroy(reason);
    },
  };
  return { engine, stats };
}

function source(chunks: number, size: number) {
  let sent = 0;
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent++ >= chunks) c.close();
      else {
        counter.pulled++;
        c.enqueue(new Uint8Array(size));
      }
    },
  }, { highWaterMark: 0 });
  return { stream, counter };
}

Deno.test("engineStream stops at maxOutput, destroying the engine once", async () => {
  const { engine, stats } = inflating(1000);
  const { stream, counter } = source(1_000_000, 1000); // 1 TB if it never stopped
  const e = await assertRejects(
    () =>
      stream.pipeThrough(engineStream(engine, { format: "test", maxOutput: 5_000_000 }))
        .pipeTo(new WritableStream()),
    OutputLimitError,
    "exceeds the limit of 5000000 bytes (at least 6000000 bytes)",
  );
  assertEquals(e.limit, 5_000_000);
  assertEquals(stats.destroyed.length, 1);
  assert(counter.pulled <= 8, `pulled ${counter.pulled} chunks`);
});

Deno.test("engineStream only reads input as output is consumed", async () => {
  const { engine, stats } = inflating(1);
  // How far the input was pulled ahead of the output read, at every pull: bounded by
  // the streams' buffers when reads drive the pipe, whatever the scheduling; an eager
  // pipe pulls all 100 chunks while the consumer is still at the start.
  let reads = 0;
  let pulled = 0;
  let ahead = 0;
  const input = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled === 100) return c.close();
      pulled++;
      ahead = Math.max(ahead, pulled - reads);
      c.enqueue(new Uint8Array(10));
    },
  }, { highWaterMark: 0 });
  const reader = input.pipeThrough(engineStream(engine, { format: "test" })).getReader();
  while (reads < 50) {
    const { done } = await reader.read();
    assertEquals(done, false);
    reads++;
  }
  assert(ahead <= 2, `input pulled ${ahead} chunks ahead of the output read`);
  assert(pulled <= 52, `pulled ${pulled} of 100 chunks after 50 reads`);
  await reader.cancel("done");
  assertEquals(stats.destroyed, ["done"]);
});

Deno.test("engineStream: abort errors both sides with the reason; engine errors are wrapped", async () => {
  const controller = new AbortController();
  const { engine, stats } = inflating(1);
  const pair = engineStream(engine, { format: "test", signal: controller.signal });
  const reason = new Error("stop");
  controller.abort(reason);
  assertEquals(stats.destroyed, [reason]);
  await assertRejects(() => pair.readable.getReader().read(), Error, "stop");
  await assertRejects(() => pair.writable.getWriter().write(new Uint8Array(1)), Error, "stop");

  const broken: DecodeEngine = {
    write: () => {},
    end: () => {},
    read: () => {
      throw new TypeError("native decoder exploded");
    },
    destroy: () => {},
  };
  const error = await assertRejects(
    () => engineStream(broken, { format: "zstd" }).readable.getReader().read(),
  );
  assertInstanceOf(error, DecompressionError);
  assertEquals(error.message, "zstd decompression failed: native decoder exploded");
  assertInstanceOf(error.cause, TypeError);
});
