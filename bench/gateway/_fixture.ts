/**
 * The gateway benchmark's test item: a store path of about `mb` MB built by
 * nix-build in the real /nix/store, made of real files copied from /usr
 * (shared libraries, Python modules, data; compressible like store items)
 * plus a share of random bytes (already-compressed content), and signed Nix
 * caches of it made by `nix copy --to file://…?compression=…`.
 *
 * @example
 * ```ts
 * const item = await buildItem(work, { mb: 1024, randomShare: 0.2 });
 * const none = await makeCache(item, `${work}/cache-none`, "none");
 * await removeItem(item);
 * ```
 * @module
 */
import { nix, nixEnv } from "../../tests/support/nix.ts";
import { sh } from "../measure.ts";

/** Directories the real files are taken from, in this order. */
const SOURCES = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/python3", "/usr/share", "/usr/bin"];

/**
 * The built item and its signing key.
 *
 * @example
 * ```ts
 * const item: Item = await buildItem("/tmp/w", { mb: 100, randomShare: 0.2 });
 * ```
 */
export interface Item {
  work: string;
  storePath: string;
  narSize: number;
  narHash: string;
  /** Bytes of real files and of random data in it. */
  realBytes: number;
  randomBytes: number;
  files: number;
  secretKeyFile: string;
  publicKey: string;
  /** Fresh XDG cache directory for the next nix command (Nix caches narinfo lookups). */
  xdg(): string;
}

/**
 * A signed file:// cache of the item.
 *
 * @example
 * ```ts
 * const cache: Cache = await makeCache(item, "/tmp/w/cache-zstd", "zstd");
 * ```
 */
export interface Cache {
  dir: string;
  compression: string;
  /** Size of the cache's NAR file (FileSize). */
  fileSize: number;
  /** Seconds `nix copy --to` took. */
  uploadSeconds: number;
}

/** Regular files and symlinks under SOURCES, in walk order, up to `budget` bytes of content. */
async function selectFiles(budget: number): Promise<{ paths: string[]; bytes: number }> {
  const paths: string[] = [];
  let bytes = 0;
  const walk = async (dir: string): Promise<boolean> => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)].sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return false;
    }
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) {
        if (await walk(path)) return true;
      } else if (e.isSymlink) {
        paths.push(path.slice(1));
      } else if (e.isFile) {
        const size = (await Deno.lstat(path)).size;
        try {
          (await Deno.open(path)).close();
        } catch {
          continue; // unreadable
        }
        if (bytes + size > budget) continue;
        paths.push(path.slice(1));
        bytes += size;
        if (bytes > budget - 64 * 1024) return true;
      }
    }
    return false;
  };
  for (const dir of SOURCES) if (await walk(dir)) break;
  return { paths, bytes };
}

/**
 * Builds the item with nix-build (about `mb` MB of content, `randomShare` of
 * it random bytes in four files) and a signing key pair for its caches.
 *
 * @example
 * ```ts
 * const item = await buildItem("/tmp/w", { mb: 1024, randomShare: 0.2 });
 * ```
 */
export async function buildItem(
  work: string,
  options: { mb: number; randomShare: number },
): Promise<Item> {
  let xdgCount = 0;
  const xdg = () => `${work}/xdg-${xdgCount++}`;
  const total = Math.round(options.mb * 1e6);
  const randomBytes = Math.round(total * options.randomShare / 4) * 4;
  const { paths, bytes } = await selectFiles(total - randomBytes);
  const list = `${work}/files.txt`;
  await Deno.writeTextFile(list, paths.join("\n") + "\n");
  const tag = `${options.mb}m-${Date.now()}`;
  const script = [
    "mkdir $out",
    "cd /",
    "tar -cf - --no-recursion -T $list | tar -xf - -C $out",
    `for i in 1 2 3 4; do head -c ${randomBytes / 4} /dev/urandom > $out/random-$i.bin; done`,
  ].join(" && ");
  await Deno.writeTextFile(
    `${work}/item.nix`,
    `derivation {
  name = "gp2p-gwbench-${tag}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  PATH = "/usr/bin:/bin";
  list = "${list}";
  args = [ "-c" "${script.replaceAll("$", "\\$")}" ];
}
`,
  );
  const build = await nix(["nix-build", "--no-out-link", `${work}/item.nix`], {
    xdg: xdg(),
    cwd: work,
  });
  if (build.code !== 0) throw new Error(`nix-build ${work}/item.nix failed: ${build.stderr}`);
  const storePath = build.stdout.split("\n").at(-1)!;
  const info = JSON.parse(
    (await nix(["nix", "path-info", "--json", storePath], { xdg: xdg() })).stdout,
  ) as { narSize: number; narHash: string }[];
  const secretKeyFile = `${work}/gwbench-1.sec`;
  const secret = await nix(["nix", "key", "generate-secret", "--key-name", "gwbench-1"], {
    xdg: xdg(),
  });
  await Deno.writeTextFile(secretKeyFile, secret.stdout);
  const publicKey = await sh(`nix key convert-secret-to-public < ${secretKeyFile}`, nixEnv(xdg()));
  return {
    work,
    storePath,
    narSize: info[0]!.narSize,
    narHash: info[0]!.narHash,
    realBytes: bytes,
    randomBytes,
    files: paths.length,
    secretKeyFile,
    publicKey,
    xdg,
  };
}

/**
 * `nix copy --to file://DIR?compression=…&secret-key=…` of the item; returns its NAR file size.
 *
 * @example
 * ```ts
 * const { fileSize } = await makeCache(item, "/tmp/w/cache-none", "none");
 * ```
 */
export async function makeCache(item: Item, dir: string, compression: string): Promise<Cache> {
  const t0 = performance.now();
  const r = await nix(
    [
      "nix",
      "copy",
      "--to",
      `file://${dir}?compression=${compression}&secret-key=${item.secretKeyFile}`,
      item.storePath,
    ],
    { xdg: item.xdg() },
  );
  if (r.code !== 0) throw new Error(`nix copy --to ${dir} (${compression}) failed: ${r.stderr}`);
  const uploadSeconds = (performance.now() - t0) / 1000;
  const narinfo = await Deno.readTextFile(`${dir}/${item.storePath.slice(11, 43)}.narinfo`);
  const fileSize = Number(/^FileSize: (\d+)$/m.exec(narinfo)?.[1]);
  if (!Number.isSafeInteger(fileSize)) {
    throw new Error(`${dir}: narinfo has no FileSize:\n${narinfo}`);
  }
  return { dir, compression, fileSize, uploadSeconds };
}

/**
 * The path of a cache's NAR file (from its narinfo's URL).
 *
 * @example
 * ```ts
 * const nar = await narFile(item, noneCache); // …/nar/<filehash>.nar
 * ```
 */
export async function narFile(item: Item, cache: Cache): Promise<string> {
  const narinfo = await Deno.readTextFile(`${cache.dir}/${item.storePath.slice(11, 43)}.narinfo`);
  return `${cache.dir}/${/^URL: (\S+)$/m.exec(narinfo)![1]}`;
}

/**
 * Size and seconds of `xz -6 -T2` over the uncompressed NAR (what Nix's xz cache would hold, ±1 %).
 *
 * @example
 * ```ts
 * const { bytes } = await xzSize(await narFile(item, noneCache));
 * ```
 */
export async function xzSize(nar: string): Promise<{ bytes: number; seconds: number }> {
  const t0 = performance.now();
  const bytes = Number(await sh(`xz -6 -T2 -c < '${nar}' | wc -c`));
  return { bytes, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Deletes the item (and its .drv) from /nix/store.
 *
 * @example
 * ```ts
 * await removeItem(item); // nix-store --delete
 * ```
 */
export async function removeItem(item: Item): Promise<void> {
  const drv = await nix(["nix-store", "-q", "--deriver", item.storePath], { xdg: item.xdg() });
  const r = await nix(["nix-store", "--delete", item.storePath], { xdg: item.xdg() });
  if (r.code !== 0) throw new Error(`nix-store --delete ${item.storePath}: ${r.stderr}`);
  if (drv.code === 0 && drv.stdout.endsWith(".drv")) {
    await nix(["nix-store", "--delete", drv.stdout], { xdg: item.xdg() });
  }
}
