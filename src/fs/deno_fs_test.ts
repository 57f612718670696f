import { assert, assertEquals, assertRejects } from "@std/assert";
import { randomTree } from "../../tests/support/tree_gen.ts";
import { formatNarHash, hashNarStream } from "../hash/nar_hash.ts";
import { chunked, TREE_T } from "../nar/_testing.ts";
import {
  memoryNarSource,
  type MemoryNode,
  NarRestoreError,
  NarSourceError,
  narStream,
  restoreNar,
} from "../nar/mod.ts";
import { type DenoRestoreTarget, denoRestoreTarget } from "./deno_restore_target.ts";
import { hashPath } from "./hash_path.ts";
import { dumpPath, narLayoutOfPath, readNarRangeOfPath, restoreNarToPath } from "./nar_path.ts";

/**
 * The NAR in 512-byte pieces; once the target has started its worker thread,
 * the next piece waits (bounded) for the worker to load, so that the worker
 * really gets files.
 */
function trickle(bytes: Uint8Array, target: DenoRestoreTarget): ReadableStream<Uint8Array> {
  const pieces = chunked(bytes, 512);
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (!target.workerReady) await target.workerLoaded(30_000);
      if (next < pieces.length) c.enqueue(pieces[next++]!);
      else c.close();
    },
  });
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nar-fs-" });
  try {
    await fn(dir);
  } finally {
    await new Deno.Command("chmod", { args: ["-R", "u+w", dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno_fs: tree T restores with Guix modes and times and dumps back identically", async () => {
  await withTemp(async (dir) => {
    const dest = `${dir}/t`;
    const { size, digest } = await restoreNarToPath(narStream(memoryNarSource(TREE_T), "/"), dest, {
      hash: true,
    });
    assertEquals(size, 1064);
    assertEquals(
      formatNarHash(digest!),
      "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s",
    );
    const modes: Record<string, string> = {};
    for (const p of ["", "/bin", "/bin/hello", "/link", "/share", "/share/doc.txt"]) {
      const st = await Deno.lstat(dest + p);
      modes[p] = `${((st.mode ?? 0) & 0o777).toString(8)} ${st.mtime?.toISOString()}`;
    }
    const t1 = "1970-01-01T00:00:01.000Z";
    assertEquals(modes, {
      "": `555 ${t1}`,
      "/bin": `555 ${t1}`,
      "/bin/hello": `555 ${t1}`,
      "/link": `777 ${t1}`,
      "/share": `555 ${t1}`,
      "/share/doc.txt": `444 ${t1}`,
    });
    assertEquals(await Deno.readLink(`${dest}/link`), "bin/hello");
    assertEquals(formatNarHash((await hashPath(dest)).digest), formatNarHash(digest!));
    const layout = await narLayoutOfPath(dest);
    const whole = new Uint8Array(await new Response(dumpPath(dest)).arrayBuffer());
    assertEquals(await readNarRangeOfPath(layout, 0, layout.size), whole);
  });
});

Deno.test("deno_fs: a FIFO in the tree is rejected naming its path", async () => {
  await withTemp(async (dir) => {
    await Deno.mkdir(`${dir}/t/sub`, { recursive: true });
    const mk = await new Deno.Command("mkfifo", { args: [`${dir}/t/sub/pipe`] }).output();
    assertEquals(mk.success, true);
    await assertRejects(
      () => hashPath(`${dir}/t`),
      NarSourceError,
      `cannot serialise "${dir}/t/sub/pipe" as NAR: unsupported file type (FIFO)`,
    );
  });
});

Deno.test("deno_fs: a non-UTF-8 file name is a clear error, not a wrong NAR", async () => {
  await withTemp(async (dir) => {
    await Deno.mkdir(`${dir}/t`);
    // Deno cannot create such a name; python3 can.
    const py = await new Deno.Command("python3", {
      args: [
        "-c",
        "import sys; open(sys.argv[1].encode() + b'/bad\\xff', 'w').close()",
        `${dir}/t`,
      ],
    }).output();
    assertEquals(py.success, true, new TextDecoder().decode(py.stderr));
    await assertRejects(
      () => hashPath(`${dir}/t`),
      NarSourceError,
      "the file name is not valid UTF-8",
    );
  });
});

Deno.test("deno_fs: a missing parent directory is a NarRestoreError naming DEST", async () => {
  await withTemp(async (dir) => {
    await assertRejects(
      () => restoreNarToPath(narStream(memoryNarSource(TREE_T), "/"), `${dir}/no/such/dest`),
      NarRestoreError,
      `cannot restore NAR to "${dir}/no/such/dest": cannot create the directory`,
    );
  });
});

Deno.test({
  name: "deno_fs: the worker thread creates files identically and its failures clean up",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTemp(async (dir) => {
      // workerThreshold 0: every small file after the first goes through the worker.
      const tree = randomTree({ seed: 31, entries: 800 });
      const reference = new Uint8Array(
        await new Response(narStream(memoryNarSource(tree), "/")).arrayBuffer(),
      );
      const target = denoRestoreTarget(`${dir}/w`, { workerThreshold: 0 });
      const input = trickle(reference, target);
      await restoreNar(input, target);
      assert(target.workerFiles > 100, `the worker created ${target.workerFiles} files`);
      for await (const e of Deno.readDir(`${dir}/w`)) {
        const st = await Deno.lstat(`${dir}/w/${e.name}`);
        assertEquals(st.mtime?.getTime(), 1000, e.name);
        if (st.isDirectory) assertEquals((st.mode ?? 0) & 0o777, 0o555, e.name);
      }
      assertEquals(
        new Uint8Array(await new Response(dumpPath(`${dir}/w`)).arrayBuffer()),
        reference,
      );

      // A file whose path exceeds PATH_MAX: its directory can be created, the file cannot.
      let deep: MemoryNode = {
        kind: "directory",
        entries: { ["f".repeat(200)]: { kind: "regular", contents: new Uint8Array(1) } },
      };
      for (let i = 0; i < 16; i++) {
        deep = { kind: "directory", entries: { ["d".repeat(250)]: deep } };
      }
      const many: MemoryNode = {
        kind: "directory",
        entries: {
          a: {
            kind: "directory",
            entries: Object.fromEntries(
              Array.from(
                { length: 50 },
                (_, i) => [`f${i}`, { kind: "regular", contents: new Uint8Array(i) }],
              ),
            ),
          },
          z: deep,
        },
      };
      const manyNar = new Uint8Array(
        await new Response(narStream(memoryNarSource(many), "/")).arrayBuffer(),
      );
      for (const workerThreshold of [0, Infinity]) {
        const dest = `${dir}/long-${workerThreshold}`;
        const target = denoRestoreTarget(dest, { workerThreshold });
        const e = await assertRejects(
          () => restoreNar(trickle(manyNar, target), target),
          NarRestoreError,
          "cannot create the file",
        );
        if (workerThreshold === 0) assert(target.workerFiles > 0, "the worker was not used");
        assert(e.message.includes("too long"), e.message);
        await assertRejects(() => Deno.lstat(dest), Deno.errors.NotFound);
      }
    });
  },
});

Deno.test({
  name: "deno_fs: hashPath moves the SHA-256 to a worker for large NARs, same digest",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/t`);
      const big = new Uint8Array(40 << 20);
      for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
      await Deno.writeFile(`${dir}/t/big`, big);
      await Deno.writeTextFile(`${dir}/t/small`, "x");
      // A worker may be slow to start (on a cold Deno cache its module is
      // compiled first) and then this thread rightly hashes alone; the test
      // waits for it so that the hand-over itself is what is checked.
      let handedOver = 0;
      const viaWorker = await hashPath(`${dir}/t`, {
        onHandover: () => handedOver++,
        awaitWorker: true,
      });
      assertEquals(handedOver, 1);
      assertEquals(await hashPath(`${dir}/t`, { worker: false }), viaWorker);
      const stream = await hashNarStream(dumpPath(`${dir}/t`));
      assertEquals(stream, viaWorker);
      // Small NARs never leave this thread.
      await hashPath(`${dir}/t/small`, { onHandover: () => handedOver++ });
      assertEquals(handedOver, 1);
    });
  },
});
