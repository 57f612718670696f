import { assertEquals, assertRejects } from "@std/assert";
import { mulberry32 } from "../../tests/support/random.ts";
import { deepTree, randomTree } from "../../tests/support/tree_gen.ts";
import { TREE_T } from "./_testing.ts";
import { NarSourceError } from "./errors.ts";
import { buildNarLayout, readNarRange } from "./layout.ts";
import { memoryNarSource, type MemoryNode } from "./memory_source.ts";
import { writeNar } from "./writer.ts";
import { concatBytes } from "../encoding/bytes.ts";

async function fullNar(node: MemoryNode): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await writeNar(memoryNarSource(node), "/", (c) => void parts.push(c.slice()));
  return concatBytes(parts);
}

Deno.test("layout: size, header and file table of tree T", async () => {
  const source = memoryNarSource(TREE_T);
  const layout = await buildNarLayout(source, "/");
  assertEquals(layout.size, 1064);
  assertEquals(layout.files, ["/bin/hello", "/share/doc.txt"]);
  assertEquals([...layout.fileSizes], [18, 6]);
  assertEquals(layout.header.length, 1064 - 18 - 6);
  assertEquals(await readNarRange(layout, source, 0, 1064), await fullNar(TREE_T));
});

Deno.test("layout: every range of random trees equals the slice of the full NAR", async () => {
  for (const seed of [11, 12, 13, 14]) {
    const tree = randomTree({ seed, entries: 150, maxFileSize: 20_000 });
    const source = memoryNarSource(tree);
    const nar = await fullNar(tree);
    const layout = await buildNarLayout(source, "/");
    assertEquals(layout.size, nar.length);
    const check = async (offset: number, length: number) => {
      assertEquals(
        await readNarRange(layout, source, offset, length),
        nar.subarray(offset, offset + length),
        `seed ${seed}, range [${offset}, +${length})`,
      );
    };
    // Fixed-size blocks, as a block exchange would request them.
    for (const block of [1000, 4096, 65536]) {
      for (let at = 0; at < nar.length; at += block) {
        await check(at, Math.min(block, nar.length - at));
      }
    }
    // Around every file boundary: inside headers, padding and contents.
    for (let i = 0; i < layout.files.length; i++) {
      const start = layout.fileOffsets[i]!;
      const end = start + layout.fileSizes[i]!;
      for (const at of [start - 9, start - 1, start, start + 1, end - 1, end, end + 3, end + 8]) {
        if (at < 0 || at >= nar.length) continue;
        await check(at, Math.min(17, nar.length - at));
      }
    }
    // Random ranges.
    const rand = mulberry32(seed);
    for (let k = 0; k < 300; k++) {
      const offset = Math.floor(rand() * nar.length);
      const length = Math.floor(rand() * Math.min(50_000, nar.length - offset + 1));
      await check(offset, length);
    }
    await check(nar.length, 0);
  }
});

Deno.test("layout: works for single nodes and deep trees", async () => {
  const trees: MemoryNode[] = [
    { kind: "regular", contents: new Uint8Array(0) },
    { kind: "regular", contents: new Uint8Array(13).fill(1), executable: true },
    { kind: "symlink", target: "/nix/store/x" },
    deepTree(50),
  ];
  for (const tree of trees) {
    const source = memoryNarSource(tree);
    const nar = await fullNar(tree);
    const layout = await buildNarLayout(source, "/");
    for (let at = 0; at < nar.length; at += 7) {
      assertEquals(await readNarRange(layout, source, at, nar.length - at), nar.subarray(at));
    }
  }
});

Deno.test("layout: ranges outside the NAR and shrunken files are errors", async () => {
  const source = memoryNarSource(TREE_T);
  const layout = await buildNarLayout(source, "/");
  await assertRejects(() => readNarRange(layout, source, 1000, 65), RangeError, "outside the NAR");
  await assertRejects(() => readNarRange(layout, source, -1, 2), RangeError);
  const shrunk = memoryNarSource({
    kind: "directory",
    entries: {
      bin: {
        kind: "directory",
        entries: { hello: { kind: "regular", contents: new Uint8Array(3) } },
      },
    },
  });
  await assertRejects(
    () => readNarRange(layout, shrunk, layout.fileOffsets[0]!, 10),
    NarSourceError,
    "shorter than when the NAR layout was built",
  );
});
