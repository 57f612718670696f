import { assert, assertEquals, assertRejects } from "@std/assert";
import { formatSse, SseHub } from "./sse.ts";

const decoder = new TextDecoder();

async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean,
): Promise<string> {
  let text = "";
  while (!done(text)) {
    const r = await reader.read();
    if (r.done) break;
    text += decoder.decode(r.value);
  }
  return text;
}

Deno.test("formatSse: id, event name and one line of JSON", () => {
  assertEquals(
    formatSse("event", { a: "x\ny" }, 7),
    'id: 7\nevent: event\ndata: {"a":"x\\ny"}\n\n',
  );
  assertEquals(formatSse("status", 1), "event: status\ndata: 1\n\n");
});

Deno.test("SseHub: clients get the retry hint and broadcasts; a full hub refuses", async () => {
  const hub = new SseHub({ maxClients: 2, heartbeatMs: 0 });
  const a = hub.connect()!;
  const b = hub.connect()!;
  assertEquals(hub.connect(), undefined, "third client refused");
  hub.broadcast("transfers", { n: 1 });
  const ra = a.stream.getReader();
  const text = await readUntil(ra, (t) => t.includes("transfers"));
  assertEquals(text, 'retry: 2000\n\nevent: transfers\ndata: {"n":1}\n\n');
  b.close();
  assertEquals(hub.size, 1);
  assert(hub.connect() !== undefined, "a slot is free again");
  hub.close();
  assertEquals(hub.size, 0);
  assertEquals((await ra.read()).done, true, "close ends the streams");
});

Deno.test("SseHub: a reader that stops reading is dropped once it is maxQueuedBytes behind", async () => {
  const hub = new SseHub({ maxClients: 4, maxQueuedBytes: 64 * 1024, heartbeatMs: 0 });
  const slow = hub.connect()!;
  const fast = hub.connect()!;
  const fastReader = fast.stream.getReader();
  let fastBytes = 0;
  const payload = { text: "x".repeat(1000) };
  for (let i = 0; i < 200; i++) {
    hub.broadcast("event", payload, i);
    // The fast client drains as it goes.
    while (fastBytes < (i + 1) * 1000) {
      const r = await fastReader.read();
      if (r.done) throw new Error("the fast client was dropped");
      fastBytes += r.value.length;
    }
  }
  assertEquals(hub.dropped, 1);
  assertEquals(hub.size, 1, "only the fast client is left");
  const slowReader = slow.stream.getReader();
  await assertRejects(async () => {
    while (!(await slowReader.read()).done) { /* drain what was queued, then the error */ }
  }, Error);
  hub.close();
});

Deno.test("SseHub: an aborted request ends its client; heartbeats reach idle clients", async () => {
  const hub = new SseHub({ heartbeatMs: 20 });
  const ac = new AbortController();
  const c = hub.connect(ac.signal)!;
  const reader = c.stream.getReader();
  const text = await readUntil(reader, (t) => t.includes(": keep-alive"));
  assert(text.includes(": keep-alive\n\n"));
  ac.abort();
  assertEquals(hub.size, 0, "removed at once");
  hub.close();
});
