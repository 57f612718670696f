/**
 * Test helpers: build NAR bytes token by token (for hostile inputs) and
 * collect streams.
 *
 * @example
 * ```ts
 * import { nar, raw, u64 } from "./_testing.ts";
 * const bytes = nar("nix-archive-1", "(", "type", "regular", "contents", u64(0), ")");
 * bytes.length; // 112
 * ```
 * @module
 */
import { encodeNarString, writeU64 } from "./_format.ts";
import { concatBytes } from "../encoding/bytes.ts";
import type { MemoryNode } from "./memory_source.ts";

const text = (s: string, executable = false): MemoryNode => ({
  kind: "regular",
  contents: new TextEncoder().encode(s),
  executable,
});

/** Tree T of ../shared/docs/guix-substitute-protocol.md §5.5 (NarSize 1064). */
export const TREE_T: MemoryNode = {
  kind: "directory",
  entries: {
    share: { kind: "directory", entries: { "doc.txt": text("hello\n") } },
    link: { kind: "symlink", target: "bin/hello" },
    bin: { kind: "directory", entries: { hello: text("#!/bin/sh\necho hi\n", true) } },
  },
};

/** A piece of a hand-built NAR. */
export type NarPiece = string | Uint8Array | { raw: Uint8Array };

/** A `u64le` integer piece (BigInt for values beyond 2^53). */
export function u64(value: number | bigint): { raw: Uint8Array } {
  const out = new Uint8Array(8);
  if (typeof value === "bigint") {
    new DataView(out.buffer).setBigUint64(0, value, true);
  } else {
    writeU64(out, 0, value);
  }
  return { raw: out };
}

/** Bytes inserted verbatim (no length, no padding). */
export function raw(bytes: Uint8Array | string): { raw: Uint8Array } {
  return { raw: typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes };
}

/** Concatenates pieces: strings and byte arrays become NAR strings, `{raw}` goes in as is. */
export function nar(...pieces: NarPiece[]): Uint8Array {
  return concatBytes(pieces.map((p) => {
    if (typeof p === "string") return encodeNarString(new TextEncoder().encode(p));
    if (p instanceof Uint8Array) return encodeNarString(p);
    return p.raw;
  }));
}

/**
 * The pieces of a regular file node (`executable` adds the flag).
 *
 * @example
 * ```ts
 * nar(NAR_MAGIC, ...reg("hello\n", true));
 * ```
 */
export function reg(contents: string | Uint8Array, executable = false): NarPiece[] {
  return [
    "(",
    "type",
    "regular",
    ...(executable ? ["executable", ""] : []),
    "contents",
    contents,
    ")",
  ];
}

/** The pieces of a symlink node. */
export function sym(target: string | Uint8Array): NarPiece[] {
  return ["(", "type", "symlink", "target", target, ")"];
}

/** The pieces of one directory entry: `name` → `node`. */
export function entry(name: string | Uint8Array, node: NarPiece[]): NarPiece[] {
  return ["entry", "(", "name", name, "node", ...node, ")"];
}

/**
 * The pieces of a directory node with `entries`, in the order given (so
 * unsorted or duplicate entries can be built on purpose).
 *
 * @example
 * ```ts
 * nar(NAR_MAGIC, ...dir(entry("a", reg("x")), entry("b", sym("a"))));
 * ```
 */
export function dir(...entries: NarPiece[][]): NarPiece[] {
  return ["(", "type", "directory", ...entries.flat(), ")"];
}

/** Splits `bytes` into chunks of `size` (to exercise chunk boundaries). */
export function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** Collects an async iterable of chunks. */
export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c.slice());
  return concatBytes(parts);
}
