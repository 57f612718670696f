import { assertEquals, assertRejects } from "@std/assert";
import { chunked, collect, nar, raw, TREE_T, u64 } from "./_testing.ts";
import { NarFormatError } from "./errors.ts";
import { memoryNarSource } from "./memory_source.ts";
import { type NarEvent, parseNar, type ParseNarOptions } from "./parser.ts";
import { writeNar } from "./writer.ts";

type Flat =
  | { kind: "directory" | "directory-end"; path: string }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "regular"; path: string; executable: boolean; text: string };

async function events(
  input: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options?: ParseNarOptions,
) {
  const out: Flat[] = [];
  for await (const e of parseNar(input, options)) out.push(await flat(e));
  return out;
}

async function flat(e: NarEvent): Promise<Flat> {
  if (e.kind !== "regular") return e;
  const text = new TextDecoder().decode(await collect(e.contents));
  assertEquals(text.length, e.size);
  return { kind: "regular", path: e.path, executable: e.executable, text };
}

async function treeT(): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await writeNar(memoryNarSource(TREE_T), "/", (c) => void parts.push(c.slice()));
  return parts[0]!;
}

const TREE_T_EVENTS: Flat[] = [
  { kind: "directory", path: "" },
  { kind: "directory", path: "bin" },
  { kind: "regular", path: "bin/hello", executable: true, text: "#!/bin/sh\necho hi\n" },
  { kind: "directory-end", path: "bin" },
  { kind: "symlink", path: "link", target: "bin/hello" },
  { kind: "directory", path: "share" },
  { kind: "regular", path: "share/doc.txt", executable: false, text: "hello\n" },
  { kind: "directory-end", path: "share" },
  { kind: "directory-end", path: "" },
];

Deno.test("parser: tree T yields the expected events whatever the chunking", async () => {
  const bytes = await treeT();
  for (const size of [1, 3, 7, 8, 13, 64, 1000, bytes.length]) {
    assertEquals(await events(chunked(bytes, size)), TREE_T_EVENTS, `chunk size ${size}`);
  }
  // Empty chunks and a ReadableStream input are fine too.
  const withEmpty = chunked(bytes, 5).flatMap((c) => [new Uint8Array(0), c]);
  assertEquals(await events(withEmpty), TREE_T_EVENTS);
  assertEquals(await events(new Blob([new Uint8Array(bytes)]).stream()), TREE_T_EVENTS);
});

Deno.test("parser: single-node archives", async () => {
  assertEquals(
    await events([nar("nix-archive-1", "(", "type", "regular", "contents", "hey", ")")]),
    [
      { kind: "regular", path: "", executable: false, text: "hey" },
    ],
  );
  assertEquals(await events([nar("nix-archive-1", "(", "type", "symlink", "target", "/x", ")")]), [
    { kind: "symlink", path: "", target: "/x" },
  ]);
  assertEquals(await events([nar("nix-archive-1", "(", "type", "directory", ")")]), [
    { kind: "directory", path: "" },
    { kind: "directory-end", path: "" },
  ]);
});

Deno.test("parser: file contents come as subarrays of the input without copies", async () => {
  const big = new Uint8Array(200_000).fill(7);
  const bytes = nar("nix-archive-1", "(", "type", "regular", "contents", big, ")");
  const input = chunked(bytes, 65536);
  for await (const e of parseNar(input)) {
    if (e.kind !== "regular") continue;
    for await (const c of e.contents) {
      assertEquals(input.some((chunk) => chunk.buffer === c.buffer), true);
    }
  }
});

Deno.test("parser: unread contents are skipped (and still checked)", async () => {
  const bytes = await treeT();
  const kinds: string[] = [];
  for await (const e of parseNar(chunked(bytes, 5))) kinds.push(`${e.kind}:${e.path}`);
  assertEquals(kinds, TREE_T_EVENTS.map((e) => `${e.kind}:${e.path}`));
  // A bad padding byte after unread contents is still found.
  const bad = nar(
    "nix-archive-1",
    "(",
    "type",
    "regular",
    "contents",
    u64(3),
    raw("abc\0\0\x01\0\0"),
    ")",
  );
  await assertRejects(
    async () => {
      for await (const _ of parseNar([bad]));
    },
    NarFormatError,
    "non-zero padding byte 0x1 after the file contents",
  );
});

Deno.test("parser: errors name the offset, the path and the offending value", async () => {
  const bytes = nar(
    "nix-archive-1",
    "(",
    "type",
    "directory",
    "entry",
    "(",
    "name",
    "ok",
    "node",
    "(",
    "type",
    "fifo",
  );
  const e = await assertRejects(() => events([bytes]), NarFormatError);
  assertEquals(e.path, "ok");
  assertEquals(e.offset, bytes.length - 16);
  assertEquals(
    e.message,
    `invalid NAR at offset ${bytes.length - 16} (entry "ok"): unknown token "fifo" ` +
      `(expected "regular", "symlink" or "directory")`,
  );
});

Deno.test("parser: maxSize bounds both the input and declared file sizes", async () => {
  const bytes = nar("nix-archive-1", "(", "type", "regular", "contents", "12345678", ")");
  assertEquals((await events([bytes], { maxSize: bytes.length })).length, 1);
  const declared = nar("nix-archive-1", "(", "type", "regular", "contents", u64(1000));
  await assertRejects(
    () => events(chunked(declared, 8), { maxSize: 200 }),
    NarFormatError,
    "file size 1000 does not fit in the expected NAR size of 200 bytes",
  );
  const padded = [bytes, new Uint8Array(8)];
  await assertRejects(
    () => events(padded, { maxSize: bytes.length }),
    NarFormatError,
    `the NAR is longer than the expected size of ${bytes.length} bytes`,
  );
});

Deno.test("parser: onChunk sees every input byte in order", async () => {
  const bytes = await treeT();
  const seen: Uint8Array[] = [];
  await events(chunked(bytes, 100), { onChunk: (c) => seen.push(c) });
  assertEquals(
    await collect((async function* () {
      yield* seen;
    })()),
    bytes,
  );
});

Deno.test("parser: an abort signal interrupts a stalled input and cancels it", async () => {
  const controller = new AbortController();
  let cancelled = false;
  const stalled = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(nar("nix-archive-1", "(", "type"));
    },
    cancel() {
      cancelled = true;
    },
  });
  const done = events(stalled, { signal: controller.signal });
  controller.abort(new Error("user gave up"));
  await assertRejects(() => done, Error, "user gave up");
  assertEquals(cancelled, true);
});

Deno.test("parser: a format error cancels the input stream", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(nar("nix-archive-2"));
    },
    cancel() {
      cancelled = true;
    },
  });
  await assertRejects(() => events(stream), NarFormatError, 'got "nix-archive-2"');
  assertEquals(cancelled, true);
});

Deno.test("parser: byte streams (BYOB) parse the same and are cancelled on errors", async () => {
  const bytes = await treeT();
  const byteStream = (data: Uint8Array, onCancel?: () => void) => {
    let at = 0;
    return new ReadableStream({
      type: "bytes",
      pull(c) {
        const view = c.byobRequest?.view;
        if (at >= data.length) {
          c.close();
          c.byobRequest?.respond(0);
          return;
        }
        if (!view) throw new Error("expected a BYOB request");
        const n = Math.min(view.byteLength, 5, data.length - at);
        new Uint8Array(view.buffer, view.byteOffset, n).set(data.subarray(at, at + n));
        at += n;
        c.byobRequest!.respond(n);
      },
      cancel() {
        onCancel?.();
      },
    });
  };
  assertEquals(await events(byteStream(bytes)), TREE_T_EVENTS);
  let cancelled = false;
  // Followed by more data, so the stream is still open when the error is found.
  const bad = new Uint8Array(10_000);
  bad.set(nar("nix-archive-1", "(", "type", "fifo", ")"));
  await assertRejects(
    () => events(byteStream(bad, () => (cancelled = true))),
    NarFormatError,
    'unknown token "fifo"',
  );
  assertEquals(cancelled, true);
});
