import { assertEquals, assertRejects } from "@std/assert";
import { DaemonFileError, openDaemonFile } from "./deno_file_nar.ts";

const HEX = "ab".repeat(32);

/** A cache directory whose NAR file `data` creates (given its path). */
async function cacheWith(data: (file: string) => Promise<void>) {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/blocks`, { recursive: true });
  await data(`${root}/blocks/${HEX}.nar`);
  return root;
}

Deno.test("the helper reads a daemon-named file only at the expected place, as a regular file", async () => {
  const root = await cacheWith((f) => Deno.writeFile(f, new Uint8Array([1, 2, 3, 4])));
  try {
    const ok = await openDaemonFile(`${root}/blocks/${HEX}.nar`, {
      cacheDir: root,
      narHashHex: HEX,
    });
    assertEquals(await ok.read(1, 2), new Uint8Array([2, 3]));
    assertEquals(await ok.read(2, 10), new Uint8Array([3, 4]), "short only at the end");
    ok.close();
    for (
      const path of [
        "/etc/shadow",
        `${root}/blocks/../blocks/${HEX}.nar`,
        `${root}/blocks/${"cd".repeat(32)}.nar`,
        `${root}/blocks/${HEX}/data`,
        `${root}/identity.key`,
      ]
    ) {
      await assertRejects(
        () => openDaemonFile(path, { cacheDir: root, narHashHex: HEX }),
        DaemonFileError,
        "expected",
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("symbolic links and non-files in the daemon's path are refused", async () => {
  const link = await cacheWith((f) => Deno.symlink("/etc/hostname", f));
  const fifo = await cacheWith(async (f) => {
    const r = await new Deno.Command("mkfifo", { args: [f] }).output();
    if (!r.success) throw new Error("mkfifo failed");
  });
  const dirLink = await Deno.makeTempDir();
  await Deno.mkdir(`${dirLink}/elsewhere`, { recursive: true });
  await Deno.writeFile(`${dirLink}/elsewhere/${HEX}.nar`, new Uint8Array(1));
  await Deno.symlink(`${dirLink}/elsewhere`, `${dirLink}/blocks`);
  try {
    for (
      const [root, what] of [
        [link, "is a symbolic link"],
        [fifo, "is not a regular file"],
        [dirLink, "is a symbolic link"],
      ]
    ) {
      await assertRejects(
        () => openDaemonFile(`${root}/blocks/${HEX}.nar`, { cacheDir: root!, narHashHex: HEX }),
        DaemonFileError,
        what,
      );
    }
  } finally {
    for (const r of [link, fifo, dirLink]) await Deno.remove(r, { recursive: true });
  }
});

Deno.test("a hard link, or a file owned by someone else than the cache's owner, is refused", async () => {
  const root = await cacheWith((f) => Deno.writeFile(f, new Uint8Array(4)));
  try {
    await Deno.link(`${root}/blocks/${HEX}.nar`, `${root}/other-name`);
    await assertRejects(
      () => openDaemonFile(`${root}/blocks/${HEX}.nar`, { cacheDir: root, narHashHex: HEX }),
      DaemonFileError,
      "2 links",
    );
    await Deno.remove(`${root}/other-name`);
    if (Deno.uid() === 0) {
      await Deno.chown(`${root}/blocks/${HEX}.nar`, 65534, 65534);
      await assertRejects(
        () => openDaemonFile(`${root}/blocks/${HEX}.nar`, { cacheDir: root, narHashHex: HEX }),
        DaemonFileError,
        "not the cache's owner",
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
