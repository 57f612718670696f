/**
 * An in-memory {@linkcode NarSource}: serialise a tree described as plain
 * objects, without touching the file system (tests, vectors, tools).
 *
 * @example
 * ```ts
 * import { memoryNarSource } from "./memory_source.ts";
 * const source = memoryNarSource({
 *   kind: "directory",
 *   entries: {
 *     hello: { kind: "regular", contents: new TextEncoder().encode("hi\n"), executable: true },
 *     link: { kind: "symlink", target: "hello" },
 *   },
 * });
 * await source.readDir("/"); // ["hello", "link"]
 * ```
 * @module
 */
import type { NarSource, NarSourceFile, NarSourceStat } from "./source.ts";

/** A node of an in-memory tree. */
export type MemoryNode =
  | { kind: "regular"; contents: Uint8Array; executable?: boolean }
  | { kind: "symlink"; target: string }
  | { kind: "directory"; entries: Record<string, MemoryNode> }
  | { kind: "unsupported"; type: string };

/**
 * A source over `root`. Paths are `/`-separated; `/` (or `""`) is the root.
 * Lookups of missing paths throw `Deno.errors.NotFound`-like `Error`s.
 *
 * @example
 * ```ts
 * import { memoryNarSource } from "./memory_source.ts";
 * import { writeNar } from "./writer.ts";
 * await writeNar(memoryNarSource({ kind: "symlink", target: "/x" }), "/", () => {}); // 128
 * ```
 */
export function memoryNarSource(root: MemoryNode): NarSource {
  const lookup = (path: string): MemoryNode => {
    let node = root;
    for (const part of path.split("/")) {
      if (part === "") continue;
      const next = node.kind === "directory" ? node.entries[part] : undefined;
      if (!next) throw new Error(`no such entry: ${JSON.stringify(path)}`);
      node = next;
    }
    return node;
  };
  return {
    lstat(path): NarSourceStat {
      const node = lookup(path);
      switch (node.kind) {
        case "regular":
          return { kind: "regular", size: node.contents.length, executable: !!node.executable };
        case "symlink":
          return { kind: "symlink" };
        case "directory":
          return { kind: "directory" };
        case "unsupported":
          return { kind: "unsupported", type: node.type };
      }
    },
    readDir(path) {
      const node = lookup(path);
      if (node.kind !== "directory") throw new Error(`not a directory: ${JSON.stringify(path)}`);
      return Object.keys(node.entries);
    },
    readLink(path) {
      const node = lookup(path);
      if (node.kind !== "symlink") throw new Error(`not a symlink: ${JSON.stringify(path)}`);
      return node.target;
    },
    open(path): NarSourceFile {
      const node = lookup(path);
      if (node.kind !== "regular") throw new Error(`not a file: ${JSON.stringify(path)}`);
      const data = node.contents;
      return {
        read(into, position) {
          const n = Math.max(0, Math.min(into.length, data.length - position));
          into.set(data.subarray(position, position + n));
          return n;
        },
        close() {},
      };
    },
  };
}
