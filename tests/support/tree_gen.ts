/**
 * Deterministic random file trees for tests and benchmarks: regular and
 * executable files (some empty), symlinks (relative, absolute, dangling),
 * empty directories, unicode names (astral characters, NFC/NFD twins, long
 * names), and deep nesting. Trees are {@linkcode MemoryNode}s; `writeTree`
 * materialises one on disk with the matching modes.
 *
 * @example
 * ```ts
 * import { randomTree, writeTree } from "./tree_gen.ts";
 * const tree = randomTree({ seed: 42, entries: 200 });
 * const dir = await Deno.makeTempDir();
 * await writeTree(tree, `${dir}/t`);
 * ```
 * @module
 */
import type { MemoryNode } from "../../src/nar/mod.ts";
import { mulberry32 } from "./random.ts";

/** Options of {@linkcode randomTree}. */
export interface RandomTreeOptions {
  /** PRNG seed. */
  seed: number;
  /** Approximate number of entries in the whole tree. Default 100. */
  entries?: number;
  /** Largest regular file. Default 64 KiB. */
  maxFileSize?: number;
  /** Deepest directory nesting. Default 6. */
  maxDepth?: number;
  /** Use unicode names (astral characters, NFC/NFD twins, long names). Default true. */
  unicode?: boolean;
}

const NAME_PIECES = [
  "a",
  "b",
  "Z",
  "lib",
  "bin",
  "share",
  "doc",
  "x.so.1",
  "README",
  "file with spaces",
  "-dash",
  "_under",
  "~tilde",
  "#hash",
  "caf\u00e9",
  "cafe\u0301",
  "\u00e9",
  "\u{E000}",
  "\u{1F600}",
  "\u{1F4A9}x",
  "\u4e2d\u6587",
  "\u0416",
  "\u{10FFFD}",
  "\u{FFFF}x",
  "A",
  ".hidden",
  "...",
  "a.b.c",
  "\u00ff",
  "\u0100",
  "%20",
  "'quote'",
  '"dq"',
  "back\\slash",
  "tab\there",
  "new\nline",
];

/** A random tree (a directory at the root).
 *
 * @example
 * ```ts
 * import { randomTree } from "./tree_gen.ts";
 * const tree = randomTree({ seed: 7, entries: 50, unicode: false });
 * ```
 */
export function randomTree(options: RandomTreeOptions): MemoryNode {
  const rand = mulberry32(options.seed);
  const budget = { left: options.entries ?? 100 };
  const maxFile = options.maxFileSize ?? 65536;
  const maxDepth = options.maxDepth ?? 6;
  const unicode = options.unicode ?? true;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

  const name = (): string => {
    const r = rand();
    if (!unicode) return `n${Math.floor(rand() * 1e9).toString(36)}`;
    if (r < 0.02) return "l".repeat(200 + Math.floor(rand() * 55)); // long, ≤ 255 bytes
    if (r < 0.04) return "\u{1F600}".repeat(10 + Math.floor(rand() * 50)); // 4-byte chars, ≤ 240 bytes
    if (r < 0.5) return pick(NAME_PIECES) + (rand() < 0.5 ? "" : String(Math.floor(rand() * 100)));
    return `${pick(NAME_PIECES)}-${Math.floor(rand() * 1e6).toString(36)}`;
  };
  const contents = (): Uint8Array => {
    const r = rand();
    const size = r < 0.15 ? 0 : r < 0.7 ? Math.floor(rand() * 300) : Math.floor(rand() * maxFile);
    const out = new Uint8Array(size);
    let x = Math.floor(rand() * 2 ** 31);
    for (let i = 0; i < size; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      out[i] = x >>> 24;
    }
    return out;
  };
  const symlink = (): MemoryNode => {
    const r = rand();
    const target = r < 0.3
      ? "/nix/store/does-not-exist-" + Math.floor(rand() * 1e6) // absolute, dangling
      : r < 0.5
      ? "../" + name() // relative, probably dangling
      : r < 0.6
      ? "/" // absolute, existing
      : name(); // relative sibling (dangling unless the name exists)
    return { kind: "symlink", target };
  };
  const dir = (depth: number): MemoryNode => {
    const entries: Record<string, MemoryNode> = {};
    const n = depth === 0 ? 8 : Math.floor(rand() * 7);
    for (let i = 0; i < n && budget.left > 0; i++) {
      budget.left--;
      const r = rand();
      const key = name();
      if (key in entries) continue;
      if (r < 0.25 && depth < maxDepth) entries[key] = dir(depth + 1);
      else if (r < 0.4) entries[key] = symlink();
      else entries[key] = { kind: "regular", contents: contents(), executable: rand() < 0.25 };
    }
    return { kind: "directory", entries };
  };
  const root = dir(0);
  // Spend the rest of the budget at random places so the tree grows wide too.
  while (budget.left > 0) {
    let node = root;
    for (let d = 0; d < maxDepth; d++) {
      if (node.kind !== "directory") break;
      const subdirs = Object.values(node.entries).filter((e) => e.kind === "directory");
      if (subdirs.length === 0 || rand() < 0.3) break;
      node = pick(subdirs);
    }
    if (node.kind !== "directory") continue;
    budget.left--;
    const key = name();
    if (key in node.entries) continue;
    node.entries[key] = rand() < 0.15
      ? { kind: "directory", entries: {} }
      : rand() < 0.2
      ? symlink()
      : { kind: "regular", contents: contents(), executable: rand() < 0.25 };
  }
  return root;
}

/** A chain of `depth` nested directories with a file at the bottom.
 *
 * @example
 * ```ts
 * import { deepTree } from "./tree_gen.ts";
 * deepTree(100); // d1/d2/.../d100/file
 * ```
 */
export function deepTree(depth: number): MemoryNode {
  let node: MemoryNode = {
    kind: "regular",
    contents: new TextEncoder().encode("bottom\n"),
  };
  for (let i = depth; i > 0; i--) node = { kind: "directory", entries: { [`d${i}`]: node } };
  return node;
}

/**
 * Writes `node` at `path` (which must not exist): files 0644 or 0755,
 * directories 0755, symlinks verbatim.
 *
 * @example
 * ```ts
 * import { deepTree, writeTree } from "./tree_gen.ts";
 * await writeTree(deepTree(3), "/tmp/deep");
 * ```
 */
export async function writeTree(node: MemoryNode, path: string): Promise<void> {
  switch (node.kind) {
    case "regular": {
      const mode = node.executable ? 0o755 : 0o644;
      await Deno.writeFile(path, node.contents, { createNew: true, mode });
      await Deno.chmod(path, mode);
      return;
    }
    case "symlink":
      await Deno.symlink(node.target, path);
      return;
    case "directory":
      await Deno.mkdir(path);
      await Deno.chmod(path, 0o755);
      for (const [name, child] of Object.entries(node.entries)) {
        await writeTree(child, `${path}/${name}`);
      }
      return;
    case "unsupported":
      throw new Error(`writeTree cannot create a ${node.type} at ${path}`);
  }
}

/**
 * Writes a file of `size` pseudo-random bytes at `path` in 1 MiB pieces
 * (for files too large to build in memory comfortably).
 *
 * @example
 * ```ts
 * import { writeLargeFile } from "./tree_gen.ts";
 * await writeLargeFile("/tmp/big.bin", 110_000_000, 42);
 * ```
 */
export async function writeLargeFile(
  path: string,
  size: number,
  seed: number,
  executable = false,
): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    createNew: true,
    mode: executable ? 0o755 : 0o644,
  });
  try {
    const block = new Uint8Array(1 << 20);
    const words = new Uint32Array(block.buffer);
    let x = seed >>> 0;
    for (let done = 0; done < size;) {
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x >>> 0;
      }
      const n = Math.min(block.length, size - done);
      let at = 0;
      while (at < n) at += await file.write(block.subarray(at, n));
      done += n;
    }
  } finally {
    file.close();
  }
  await Deno.chmod(path, executable ? 0o755 : 0o644);
}

/**
 * Writes `bytes` of incompressible data under `dir/lib` as a few large files (at
 * most 256 MiB each); returns `dir`.
 */
export async function incompressibleTree(dir: string, bytes: number, seed = 1): Promise<string> {
  await Deno.mkdir(`${dir}/lib`, { recursive: true });
  const files = Math.max(1, Math.ceil(bytes / (256 * 2 ** 20)));
  for (let i = 0; i < files; i++) {
    const size = Math.min(Math.ceil(bytes / files), bytes - i * Math.ceil(bytes / files));
    await writeLargeFile(`${dir}/lib/blob-${i}.so`, size, seed * 1000 + i + 1, true);
  }
  return dir;
}

/**
 * Copies real binaries (regular files of `/usr/lib/x86_64-linux-gnu`,
 * `/usr/bin`, `/usr/lib` in sorted walk order) into `dir` until `bytes`
 * bytes; returns the byte count copied.
 */
export async function binaryTree(dir: string, bytes: number): Promise<number> {
  let total = 0;
  const roots = ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/libexec", "/usr/lib"];
  const seen = new Set<string>();
  const walk = async (from: string, to: string): Promise<void> => {
    const entries = [];
    try {
      for await (const e of Deno.readDir(from)) entries.push(e);
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (total >= bytes) return;
      const src = `${from}/${e.name}`;
      if (seen.has(src)) continue;
      seen.add(src);
      if (e.isDirectory) {
        await walk(src, `${to}/${e.name}`);
      } else if (e.isFile) {
        let st;
        try {
          st = await Deno.stat(src);
        } catch {
          continue;
        }
        if (st.size === 0 || total + st.size > bytes) continue;
        await Deno.mkdir(to, { recursive: true });
        try {
          await Deno.copyFile(src, `${to}/${e.name}`);
        } catch {
          continue;
        }
        await Deno.chmod(`${to}/${e.name}`, (st.mode ?? 0o644) & 0o111 ? 0o755 : 0o644);
        total += st.size;
      }
    }
  };
  for (const r of roots) await walk(r, `${dir}${r}`);
  return total;
}
