/**
 * The NAR core against the real nix-bin (Nix 2.8): generated trees must give
 * byte-identical NARs and equal hashes, NARs must round-trip through both
 * restorers, and our restore must leave Guix's modes and timestamps.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { recordingIo } from "./support/cli_io.ts";
import { narCommand } from "../src/cli/nar.ts";
import { UsageError } from "../src/std/cli.ts";
import { concatBytes } from "../src/encoding/bytes.ts";
import { formatNarHash } from "../src/hash/nar_hash.ts";
import { Sha256, sha256 } from "../src/hash/sha256.ts";
import { dumpPath, hashPath, restoreNarToPath } from "../src/fs/mod.ts";
import { hashNarStream } from "../src/hash/nar_hash.ts";
import { deepTree, randomTree, writeLargeFile, writeTree } from "./support/tree_gen.ts";

const NIX_ENV = { NIX_REMOTE: "", NIX_CONFIG: "experimental-features = nix-command" };

async function run(
  cmd: string,
  args: string[],
  stdin?: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, {
    args,
    env: NIX_ENV,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const feeding = stdin?.pipeTo(child.stdin);
  const [out, status] = await Promise.all([child.output(), feeding]);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  void status;
  return out.stdout;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const nixDump = (path: string) => run("nix-store", ["--dump", path]);
const nixHash = async (path: string) =>
  "sha256:" +
  new TextDecoder().decode(
    await run("nix", ["hash", "path", "--base32", "--type", "sha256", path]),
  ).trim();

/** Streams `nix-store --dump PATH` without buffering it. */
function nixDumpStream(path: string): { stream: ReadableStream<Uint8Array>; done: Promise<void> } {
  const child = new Deno.Command("nix-store", {
    args: ["--dump", path],
    env: NIX_ENV,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return {
    stream: child.stdout,
    done: child.status.then((s) => assert(s.success, `nix-store --dump ${path}: ${s.code}`)),
  };
}

/** Checks every restored node: 0444/0555 files, 0555 directories, atime = mtime = 1 s. */
async function assertGuixMetadata(path: string): Promise<number> {
  const st = await Deno.lstat(path);
  assertEquals(st.mtime?.getTime(), 1000, `mtime of ${path}`);
  assertEquals(st.atime?.getTime(), 1000, `atime of ${path}`);
  const mode = (st.mode ?? 0) & 0o7777;
  if (st.isSymlink) return 1;
  if (st.isFile) {
    assert(mode === 0o444 || mode === 0o555, `mode of ${path} is ${mode.toString(8)}`);
    return 1;
  }
  assertEquals(mode, 0o555, `mode of directory ${path}`);
  let count = 1;
  for await (const e of Deno.readDir(path)) count += await assertGuixMetadata(`${path}/${e.name}`);
  return count;
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nar-nix-" });
  try {
    await fn(dir);
  } finally {
    await new Deno.Command("chmod", { args: ["-R", "u+w", dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("nar vs nix: random trees give byte-identical NARs and equal hashes", async () => {
  await withTemp(async (dir) => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const path = `${dir}/tree-${seed}`;
      await writeTree(randomTree({ seed, entries: 250 }), path);
      const ours = await collect(dumpPath(path));
      const theirs = await nixDump(path);
      assertEquals(ours.length, theirs.length, `seed ${seed}: NarSize`);
      assertEquals(ours, theirs, `seed ${seed}: NAR bytes`);
      const { digest, size } = await hashPath(path);
      assertEquals(size, theirs.length);
      assertEquals(formatNarHash(digest), await nixHash(path), `seed ${seed}: NarHash`);
    }
  });
});

Deno.test("nar vs nix: deep nesting, single nodes and awkward names", async () => {
  await withTemp(async (dir) => {
    const cases: Record<string, Parameters<typeof writeTree>[0]> = {
      deep: deepTree(100),
      file: { kind: "regular", contents: new TextEncoder().encode("just a file\n") },
      exe: { kind: "regular", contents: new Uint8Array(0), executable: true },
      dangling: { kind: "symlink", target: "/nix/store/nowhere" },
      names: {
        kind: "directory",
        entries: {
          "\u{1F600}": { kind: "directory", entries: {} },
          "\u{E000}": { kind: "regular", contents: new Uint8Array(9) },
          "caf\u00e9": { kind: "symlink", target: "cafe\u0301" },
          "cafe\u0301": { kind: "regular", contents: new Uint8Array(0) },
          ["n".repeat(255)]: { kind: "regular", contents: new Uint8Array(1) },
          "new\nline": { kind: "symlink", target: "../../../../etc/passwd" },
          "Z": { kind: "directory", entries: { empty: { kind: "directory", entries: {} } } },
        },
      },
    };
    for (const [name, tree] of Object.entries(cases)) {
      const path = `${dir}/${name}`;
      await writeTree(tree, path);
      assertEquals(await collect(dumpPath(path)), await nixDump(path), name);
      assertEquals(formatNarHash((await hashPath(path)).digest), await nixHash(path), name);
    }
  });
});

Deno.test("nar vs nix: round trips through both restorers keep the bytes and set Guix metadata", async () => {
  await withTemp(async (dir) => {
    const src = `${dir}/src`;
    await writeTree(randomTree({ seed: 77, entries: 400 }), src);
    const reference = await nixDump(src);

    // ours -> ours
    const { size } = await restoreNarToPath(dumpPath(src), `${dir}/ours`);
    assertEquals(size, reference.length);
    // Metadata first: reading the tree afterwards updates access times.
    const nodes = await assertGuixMetadata(`${dir}/ours`);
    assert(nodes > 300, `only ${nodes} nodes restored`);
    assertEquals(await collect(dumpPath(`${dir}/ours`)), reference);

    // ours -> nix-store --restore
    await run("nix-store", ["--restore", `${dir}/by-nix`], dumpPath(src));
    assertEquals(await nixDump(`${dir}/by-nix`), reference);

    // nix-store --dump -> ours, with the NarHash computed while restoring
    const nix = nixDumpStream(src);
    const result = await restoreNarToPath(nix.stream, `${dir}/from-nix`, {
      hash: true,
      maxSize: reference.length,
    });
    await nix.done;
    assertEquals(result.digest, sha256(reference));
    await assertGuixMetadata(`${dir}/from-nix`);
    assertEquals(await nixDump(`${dir}/from-nix`), reference);
  });
});

Deno.test("nar vs nix: a tree with a 110 MB file hashes, dumps and restores identically", async () => {
  await withTemp(async (dir) => {
    const src = `${dir}/big`;
    await writeTree(randomTree({ seed: 9, entries: 40 }), src);
    await writeLargeFile(`${src}/large.bin`, 110_000_000 + 3, 12345);
    await writeLargeFile(`${src}/large-exe`, 8 * 1024 * 1024, 999, true);

    const ours = await hashPath(src); // > 16 MiB: hashed in the worker thread
    assertEquals(formatNarHash(ours.digest), await nixHash(src));
    assertEquals(await hashPath(src, { worker: false }), ours);
    // The streamed dump has the same bytes as nix-store --dump (compared by hash, not buffered).
    const nix = nixDumpStream(src);
    const theirs = await hashNarStream(nix.stream);
    await nix.done;
    assertEquals(await hashNarStream(dumpPath(src)), ours);
    assertEquals(theirs, ours);

    const restored = await restoreNarToPath(dumpPath(src), `${dir}/restored`, { hash: true });
    assertEquals(restored, { size: ours.size, digest: ours.digest });
    await assertGuixMetadata(`${dir}/restored`);
    assertEquals(await hashPath(`${dir}/restored`), ours);
    // nix-store --restore accepts the big NAR too.
    await run("nix-store", ["--restore", `${dir}/by-nix`], dumpPath(src));
    const check = new Sha256();
    for await (const c of dumpPath(`${dir}/by-nix`)) check.update(c);
    assertEquals(check.digest(), ours.digest);
  });
});

const streamOf = (bytes: Uint8Array = new Uint8Array(0)): ReadableStream<Uint8Array> =>
  ReadableStream.from([bytes]);

Deno.test("nar CLI: hash, dump and restore agree with nix; bad input exits 1 with the reason", async () => {
  await withTemp(async (dir) => {
    const src = `${dir}/src`;
    await writeTree(randomTree({ seed: 5, entries: 120 }), src);
    const reference = await nixDump(src);

    const h = recordingIo();
    assertEquals(await narCommand.run(["hash", src], h), 0);
    assertEquals(h.outLines, [await nixHash(src)]);
    const hs = recordingIo();
    assertEquals(await narCommand.run(["hash", "--size", src], hs), 0);
    assertEquals(hs.outLines, [`${await nixHash(src)} ${reference.length}`]);

    const d = recordingIo();
    assertEquals(await narCommand.run(["dump", src], d), 0);
    assertEquals(concatBytes(d.bytes), reference);

    const r = recordingIo({ stdin: streamOf(reference) });
    assertEquals(await narCommand.run(["restore", `${dir}/restored`], r), 0);
    assertEquals(r.errLines, []);
    assertEquals(await nixDump(`${dir}/restored`), reference);

    // The same NAR again: DEST exists now.
    const again = recordingIo({ stdin: streamOf(reference) });
    assertEquals(await narCommand.run(["restore", `${dir}/restored`], again), 1);
    assertEquals(again.errLines, [
      `guix-p2p: nar restore: cannot restore NAR to "${dir}/restored": the destination already exists`,
    ]);

    // Truncated NAR: rejected, nothing left.
    const cut = recordingIo({ stdin: streamOf(reference.subarray(0, reference.length - 100)) });
    assertEquals(await narCommand.run(["restore", `${dir}/cut`], cut), 1);
    assertEquals(cut.errLines.length, 1);
    assert(
      cut.errLines[0]!.startsWith("guix-p2p: nar restore: invalid NAR at offset "),
      cut.errLines[0],
    );
    assert(cut.errLines[0]!.includes("truncated input"), cut.errLines[0]);
    await assertRejects(() => Deno.lstat(`${dir}/cut`), Deno.errors.NotFound);

    // --max-size below the real size.
    const small = recordingIo({ stdin: streamOf(reference) });
    assertEquals(
      await narCommand.run(
        ["restore", `${dir}/small`, "--max-size", String(reference.length - 1)],
        small,
      ),
      1,
    );
    assert(small.errLines[0]!.includes("longer than the expected size"), small.errLines[0]);

    // Unsupported file type and a missing path.
    await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output();
    const f = recordingIo();
    assertEquals(await narCommand.run(["hash", `${dir}/fifo`], f), 1);
    assertEquals(f.errLines, [
      `guix-p2p: nar hash: cannot serialise "${dir}/fifo" as NAR: unsupported file type (FIFO): ` +
      "a NAR holds only regular files, directories and symlinks",
    ]);

    for (const sub of ["dump", "restore", "hash"]) {
      const help = recordingIo();
      assertEquals(await narCommand.run([sub, "--help"], help), 0);
      assert(help.outLines[0]!.startsWith(`usage: guix-p2p nar ${sub}`), help.outLines[0]);
    }
    await assertRejects(
      () => narCommand.run(["hash"], recordingIo()),
      UsageError,
      "exactly one PATH",
    );
    await assertRejects(
      () => narCommand.run(["frobnicate"], recordingIo()),
      UsageError,
      "nar frobnicate",
    );
  });
});

Deno.test({
  name: "nar CLI: bin/guix-p2p nar hash and dump run end to end",
  sanitizeResources: false,
  async fn() {
    await withTemp(async (dir) => {
      const src = `${dir}/src`;
      await writeTree(randomTree({ seed: 8, entries: 60 }), src);
      const launcher = new URL("../bin/guix-p2p", import.meta.url).pathname;
      const hash = new TextDecoder().decode(await run(launcher, ["nar", "hash", src])).trim();
      assertEquals(hash, await nixHash(src));
      assertEquals(await run(launcher, ["nar", "dump", src]), await nixDump(src));
    });
  },
});
