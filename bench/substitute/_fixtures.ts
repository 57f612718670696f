/**
 * Data sets of the substitute-path benchmark (`bench/substitute/substitute.ts`):
 *
 * - a cache of N small signed narinfos, as `guix publish` serves them
 *   (references, a deriver, zstd and lzip entries with FileSize), for `have`;
 * - a realistic store item of a given size: files copied from /usr/lib and
 *   /usr/share (libraries, executables, Python and Perl modules, docs,
 *   symlinks), repeated until the tree reaches the size; its NAR is dumped by
 *   the real `nix-store --dump` and compressed by the real `zstd` and `lzip`.
 *
 * @example
 * ```ts
 * import { narinfoCache } from "./_fixtures.ts";
 * const paths = await narinfoCache({ dir: "/tmp/c", storeDir: "/gnu/store", key, count: 1000 });
 * ```
 * @module
 */
import { nix32Encode } from "../../src/encoding/nix32.ts";
import { formatNarHash } from "../../src/hash/nar_hash.ts";
import { hashNarStream } from "../../src/hash/nar_hash.ts";
import { memoryNarSource, narStream } from "../../src/nar/mod.ts";
import type { NarinfoContent } from "../../src/narinfo/mod.ts";
import { type GuixPrivateKey, signGuixNarinfo } from "../../src/trust/mod.ts";
import { sh } from "../measure.ts";

const encoder = new TextEncoder();

/** A random store hash part (32 nix32 characters). */
export function randomHashPart(): string {
  return nix32Encode(crypto.getRandomValues(new Uint8Array(20)));
}

/**
 * Writes `count` signed narinfos (one per store item of a small file, with 5
 * references, a deriver, zstd and lzip entries) into `dir`; returns the store
 * paths. The NARs themselves are not written: `have` and `info` never fetch them.
 */
export async function narinfoCache(options: {
  dir: string;
  storeDir: string;
  key: GuixPrivateKey;
  count: number;
}): Promise<string[]> {
  const { dir, storeDir, key, count } = options;
  await Deno.mkdir(dir, { recursive: true });
  const parts = Array.from({ length: count }, randomHashPart);
  const names = parts.map((h, i) => `${h}-pkg-${i}-1.${i % 10}`);
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const contents = encoder.encode(`#!/bin/sh\necho package ${i}\n`.repeat(1 + (i % 7)));
    const { digest, size } = await hashNarStream(
      narStream(memoryNarSource({ kind: "regular", contents, executable: true }), "/"),
    );
    const references = [0, 1, 2, 3, 4].map((k) => names[(i + k * 37) % count]!).sort();
    const info: NarinfoContent = {
      storePath: `${storeDir}/${names[i]}`,
      narHash: formatNarHash(digest),
      narSize: size,
      references,
      deriver: `${parts[(i + 1) % count]!.replace(/^./, "0")}-pkg-${i}.drv`,
      entries: [
        { url: `nar/zstd/${names[i]}`, compression: "zstd", fileSize: 90 + (i % 50) },
        { url: `nar/lzip/${names[i]}`, compression: "lzip", fileSize: 100 + (i % 50) },
      ],
    };
    await Deno.writeTextFile(`${dir}/${parts[i]}.narinfo`, signGuixNarinfo(info, key, "bench"));
    paths.push(info.storePath);
  }
  return paths;
}

/** Directories copied (in this order, each whole) into the large tree. */
const SOURCES = [
  "/usr/lib/python3.11",
  "/usr/share/perl",
  "/usr/bin",
  "/usr/share/doc",
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/gcc",
  "/usr/share/locale",
  "/usr/share/man",
  "/usr/share/zoneinfo",
  "/usr/lib/python3",
];

/**
 * Builds a tree of about `bytes` bytes under `dir` from copies of system
 * directories (regular files, executables and symlinks only; other file types
 * are dropped), returning the file count. Copies are `copy-<n>/<source>`; the
 * last copy stops once the size is reached.
 */
export async function realisticTree(dir: string, bytes: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const python = `
import os, shutil, stat, sys
dest, target, sources = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
total = 0
n = 0
while total < target:
    for src in sources:
        if total >= target: break
        for root, dirs, files in os.walk(src):
            dirs.sort(); files.sort()
            rel = os.path.relpath(root, "/")
            out = os.path.join(dest, "copy-%d" % n, rel)
            os.makedirs(out, exist_ok=True)
            for name in dirs:
                p = os.path.join(root, name)
                if os.path.islink(p):
                    os.symlink(os.readlink(p), os.path.join(out, name))
            for name in files:
                if total >= target: break
                p = os.path.join(root, name)
                q = os.path.join(out, name)
                try:
                    st = os.lstat(p)
                    if stat.S_ISLNK(st.st_mode):
                        os.symlink(os.readlink(p), q)
                    elif stat.S_ISREG(st.st_mode):
                        shutil.copyfile(p, q)
                        os.chmod(q, 0o755 if st.st_mode & 0o111 else 0o644)
                        total += st.st_size
                except (PermissionError, FileExistsError, OSError):
                    pass
            if total >= target: break
    n += 1
print(total)
`;
  await sh(
    `python3 -c '${python.replaceAll("'", "'\\''")}' ${dir} ${bytes} ${SOURCES.join(" ")}`,
  );
}

/** Compressor command lines, as Guix publishes (`zstd -19`, `lzip -6`; plzip is /usr/bin/lzip). */
export function compressCommand(format: "zstd" | "lzip", level: number): string {
  return format === "zstd" ? `zstd -q -T2 -${level} -c` : `lzip -q -${level} -c`;
}
