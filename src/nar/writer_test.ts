import { assertEquals, assertRejects } from "@std/assert";
import { hexEncode } from "../encoding/hex.ts";
import { formatNarHash } from "../hash/nar_hash.ts";
import { sha256 } from "../hash/sha256.ts";
import { TREE_T } from "./_testing.ts";
import { NarSourceError } from "./errors.ts";
import { memoryNarSource, type MemoryNode } from "./memory_source.ts";
import { narStream, writeNar } from "./writer.ts";
import { concatBytes } from "../encoding/bytes.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const file = (s: string, executable = false): MemoryNode => ({
  kind: "regular",
  contents: enc(s),
  executable,
});

async function dump(node: MemoryNode, chunkSize?: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await writeNar(memoryNarSource(node), "/", (c) => void parts.push(c.slice()), { chunkSize });
  return concatBytes(parts);
}

const VECTORS: [string, MemoryNode, number, string][] = [
  ["empty file", file(""), 112, "sha256:0ip26j2h11n1kgkz36rl4akv694yz65hr72q4kv4b3lxcbi65b3p"],
  [
    "empty directory",
    { kind: "directory", entries: {} },
    96,
    "sha256:0sjjj9z1dhilhpc8pq4154czrb79z9cm044jvn75kxcjv6v5l2m5",
  ],
  [
    "Hello World!",
    file("Hello World!"),
    128,
    "sha256:0h40zg6hakjv951nyhdad7mv9za56m3za5gnpiw5s1hbwcxzdrq3",
  ],
  [
    "symlink",
    { kind: "symlink", target: "/nix/store/somewhereelse" },
    136,
    "sha256:1wcwacrb5q36hpsx1shk0dkm26hwbmqmgi0nm973h9jqkdz3jz89",
  ],
  [
    "executable hi",
    file("hi\n", true),
    152,
    "sha256:19qdn6jdp9i45l6wvas7q9cljnjp1kgm84a9ci9pd247ncdcwnxm",
  ],
  ["tree T", TREE_T, 1064, "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s"],
];

for (const [name, node, size, hash] of VECTORS) {
  Deno.test(`writer: §5.5 vector "${name}" has NarSize ${size} and the documented NarHash`, async () => {
    const nar = await dump(node);
    assertEquals(nar.length, size);
    assertEquals(formatNarHash(sha256(nar)), hash);
  });
}

Deno.test("writer: executable hi\\n NAR matches the documented bytes exactly", async () => {
  assertEquals(
    hexEncode(await dump(file("hi\n", true))),
    "0d000000000000006e69782d617263686976652d3100000001000000000000002800000000000000" +
      "040000000000000074797065000000000700000000000000726567756c6172000a00000000000000" +
      "65786563757461626c6500000000000000000000000000000800000000000000636f6e74656e7473" +
      "030000000000000068690a000000000001000000000000002900000000000000",
  );
});

Deno.test("writer: tree T digest in hex", async () => {
  assertEquals(
    hexEncode(sha256(await dump(TREE_T))),
    "5a48fdc4097a1cb627aace041baee48ae14590e66fa12898939401c40557425c",
  );
});

Deno.test("writer: entries are sorted by UTF-8 bytes, not UTF-16 code units", async () => {
  // U+E000 is 0xEE 0x80 0x80 in UTF-8, U+1F600 is 0xF0 ...: byte order puts U+E000 first,
  // while UTF-16 order ("\uD83D" < "\uE000") would put the emoji first.
  const nar = await dump({
    kind: "directory",
    entries: { "\u{1F600}": file("b"), "\u{E000}": file("a"), "z": file("c"), "Z": file("d") },
  });
  const text = new TextDecoder().decode(nar);
  const order = ["Z", "z", "\u{E000}", "\u{1F600}"].map((n) => text.indexOf(`${n}\0`));
  assertEquals(order.every((at) => at > 0), true);
  assertEquals([...order].sort((a, b) => a - b), order);
  assertEquals("\u{1F600}" < "\u{E000}", true); // the JS order we must not use
});

Deno.test("writer: chunk size does not change the bytes; chunks are full except the last", async () => {
  const big = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  const tree: MemoryNode = {
    kind: "directory",
    entries: Object.fromEntries([
      ...Array.from({ length: 500 }, (_, i) => [`f${i}`, file(`small ${i}`)] as const),
      ["big", { kind: "regular", contents: big }],
    ]),
  };
  const reference = await dump(tree);
  const sizes: number[] = [];
  await writeNar(memoryNarSource(tree), "/", (c) => void sizes.push(c.length), {
    chunkSize: 65536,
  });
  assertEquals(sizes.slice(0, -1).every((n) => n === 65536), true);
  assertEquals(sizes.reduce((a, b) => a + b), reference.length);
  assertEquals(await new Response(narStream(memoryNarSource(tree), "/")).bytes(), reference);
  assertEquals(await dump(tree, 65536), reference);
});

Deno.test("writer: reuseBuffer yields the same bytes to a consumer that copies", async () => {
  const tree: MemoryNode = {
    kind: "directory",
    entries: Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`entry-${i}`, file("x".repeat(i % 97))]),
    ),
  };
  const reference = await dump(tree);
  const parts: Uint8Array[] = [];
  await writeNar(memoryNarSource(tree), "/", (c) => void parts.push(c.slice()), {
    chunkSize: 65536,
    reuseBuffer: true,
  });
  assertEquals(concatBytes(parts), reference);
});

Deno.test("writer: unsupported file types are rejected naming the path", async () => {
  const tree: MemoryNode = {
    kind: "directory",
    entries: {
      a: { kind: "directory", entries: { sock: { kind: "unsupported", type: "socket" } } },
    },
  };
  await assertRejects(
    () => dump(tree),
    NarSourceError,
    'cannot serialise "/a/sock" as NAR: unsupported file type (socket)',
  );
});

Deno.test("writer: duplicate (lossily decoded) names are rejected", async () => {
  const source = memoryNarSource(TREE_T);
  const dupSource = { ...source, readDir: () => ["\uFFFD", "\uFFFD"] };
  await assertRejects(
    () => writeNar(dupSource, "/", () => {}),
    NarSourceError,
    "two entries are named",
  );
});

Deno.test("writer: a file that shrinks while being read is an error, not a short NAR", async () => {
  const source = memoryNarSource(file("hello"));
  const shrinking = { ...source, open: () => ({ read: () => 0, close() {} }) };
  await assertRejects(() => writeNar(shrinking, "/", () => {}), NarSourceError, "shrank");
});

Deno.test("writer: cancelling the stream stops the walk", async () => {
  let opened = 0;
  const tree: MemoryNode = {
    kind: "directory",
    entries: Object.fromEntries(
      Array.from(
        { length: 64 },
        (_, i) => [`f${i}`, { kind: "regular", contents: new Uint8Array(1 << 20) }],
      ),
    ),
  };
  const source = memoryNarSource(tree);
  const counting = { ...source, open: (p: string) => (opened++, source.open(p)) };
  const reader = narStream(counting, "/").getReader();
  await reader.read();
  await reader.cancel("enough");
  assertEquals(opened < 10, true, `opened ${opened} files after cancel`);
});

Deno.test("writer: an aborted signal rejects with its reason", async () => {
  const controller = new AbortController();
  controller.abort(new Error("stop now"));
  await assertRejects(
    () => writeNar(memoryNarSource(TREE_T), "/", () => {}, { signal: controller.signal }),
    Error,
    "stop now",
  );
});
