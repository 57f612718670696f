import { assertEquals, assertRejects } from "@std/assert";
import type { FetchEvent } from "../control/client.ts";
import { concatBytes } from "../encoding/bytes.ts";
import type { DaemonFile } from "./deno_file_nar.ts";
import { FileReadError, NarFeed, Rewind } from "./_nar_feed.ts";
import type { ProgressReporter } from "./traces.ts";

const reporter = {
  start() {},
  report() {},
  finish() {},
  abandon() {},
} as unknown as ProgressReporter;

async function* events(list: FetchEvent[]): AsyncGenerator<FetchEvent> {
  for (const e of list) yield e;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return concatBytes(parts);
}

const fileOf = (bytes: Uint8Array, opened: string[]) => (path: string): Promise<DaemonFile> => {
  opened.push(path);
  return Promise.resolve({
    read: (offset: number, length: number) =>
      Promise.resolve(bytes.slice(offset, Math.min(bytes.length, offset + length))),
    close() {},
  });
};

Deno.test("a named file is read as far as 'available' allows, then the fetch may continue with data", async () => {
  const nar = new Uint8Array(3 << 20).map((_, i) => i & 255);
  const opened: string[] = [];
  const feed = new NarFeed(
    events([
      { kind: "file", source: "p2p", url: "p2p://x", path: "/c/blocks/h/data" },
      { kind: "available", bytes: 1 << 20 },
      { kind: "available", bytes: 2 << 20 },
      // The download failed midway: the rest comes over HTTP, from the byte reached.
      { kind: "source", source: "http", url: "http://s/nar", offset: 2 << 20, size: null },
      { kind: "data", bytes: nar.slice(2 << 20) },
      { kind: "done", bytes: nar.length },
    ]),
    { dest: "/d", reporter, openFile: fileOf(nar, opened) },
  );
  assertEquals(await readAll(feed.attempt()), nar);
  assertEquals(opened, ["/c/blocks/h/data"]);
  assertEquals(feed.usedFile, true);
  assertEquals(feed.source, "p2p");
});

Deno.test("a rewind ends the attempt; the next attempt gets the bytes that follow", async () => {
  const feed = new NarFeed(
    events([
      { kind: "source", source: "p2p", url: "p2p://x", offset: 0, size: null },
      { kind: "data", bytes: new Uint8Array([1, 2, 3]) },
      { kind: "source", source: "http", url: "http://s/nar", offset: 0, size: 3 },
      { kind: "data", bytes: new Uint8Array([7, 8, 9]) },
    ]),
    { dest: "/d", reporter, openFile: fileOf(new Uint8Array(0), []) },
  );
  await assertRejects(() => readAll(feed.attempt()), Rewind);
  assertEquals(await readAll(feed.attempt()), new Uint8Array([7, 8, 9]));
  assertEquals(feed.fetchError, undefined);
});

Deno.test("a daemon that shrinks 'available' or resumes at the wrong byte is an error of the fetch", async () => {
  const bad = new NarFeed(
    events([
      { kind: "file", source: "p2p", url: "p2p://x", path: "/f" },
      { kind: "available", bytes: 10 },
      { kind: "available", bytes: 5 },
    ]),
    { dest: "/d", reporter, openFile: fileOf(new Uint8Array(10), []) },
  );
  await assertRejects(() => readAll(bad.attempt()), Error, "shrinking");
  assertEquals(bad.fetchError instanceof Error, true);
  const skip = new NarFeed(
    events([
      { kind: "source", source: "http", url: "u", offset: 0, size: null },
      { kind: "data", bytes: new Uint8Array(4) },
      { kind: "source", source: "http", url: "u", offset: 9, size: null },
    ]),
    { dest: "/d", reporter, openFile: fileOf(new Uint8Array(0), []) },
  );
  await assertRejects(() => readAll(skip.attempt()), Error, "resumed at byte 9");
});

Deno.test("a daemon-named file that is gone is a FileReadError (the helper then retries through the daemon)", async () => {
  const feed = new NarFeed(
    events([
      { kind: "file", source: "p2p", url: "p2p://x", path: "/c/blocks/h/data" },
      { kind: "available", bytes: 10 },
    ]),
    {
      dest: "/d",
      reporter,
      openFile: () => Promise.reject(new Deno.errors.NotFound("lstat '/c/blocks/h': gone")),
    },
  );
  await assertRejects(() => readAll(feed.attempt()), FileReadError, "gone");
  assertEquals(feed.fetchError instanceof FileReadError, true);
  assertEquals(feed.usedFile, true);
});
