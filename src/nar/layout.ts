/**
 * Random access to the NAR of a tree without writing the NAR: one walk builds
 * a compact index (all literal header bytes, plus where each file's contents
 * sit in the NAR), and {@linkcode readNarRange} then returns any byte range of
 * the NAR by reading only the files it overlaps. This lets a peer seed a
 * store item straight from the store.
 *
 * @example
 * ```ts
 * import { buildNarLayout, readNarRange } from "./layout.ts";
 * import { memoryNarSource } from "./memory_source.ts";
 * const source = memoryNarSource({ kind: "regular", contents: new Uint8Array(10) });
 * const layout = await buildNarLayout(source, "/");
 * layout.size; // 128
 * const bytes = await readNarRange(layout, source, 96, 16); // 10 content bytes, 6 padding
 * ```
 * @module
 */
import { walkNar } from "./_walk.ts";
import { NarSourceError } from "./errors.ts";
import type { NarSource, NarSourceFile } from "./source.ts";

/**
 * The index of a tree's NAR. The NAR is `header` with the contents of
 * `files[i]` (`fileSizes[i]` bytes) inserted at NAR offset `fileOffsets[i]`;
 * empty files take no entry.
 */
export interface NarLayout {
  /** NarSize. */
  readonly size: number;
  /** Every byte of the NAR that is not file contents, in order. */
  readonly header: Uint8Array;
  /** Source paths of the non-empty regular files, in NAR order. */
  readonly files: readonly string[];
  /** NAR offset of the first content byte of each file. */
  readonly fileOffsets: Float64Array;
  /** Size of each file. */
  readonly fileSizes: Float64Array;
  /** Position in `header` where each file's contents are inserted. */
  readonly fileHeaderOffsets: Float64Array;
}

/** Options of {@linkcode buildNarLayout} and {@linkcode readNarRange}. */
export interface NarLayoutOptions {
  /** Stops the walk or read with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Walks `path` of `source` once and indexes its NAR.
 * @throws {NarSourceError} for trees that cannot be serialised.
 *
 * @example
 * ```ts
 * import { buildNarLayout } from "./layout.ts";
 * import { memoryNarSource } from "./memory_source.ts";
 * const layout = await buildNarLayout(memoryNarSource({ kind: "directory", entries: {} }), "/");
 * layout.files.length; // 0
 * ```
 */
export async function buildNarLayout(
  source: NarSource,
  path: string,
  options: NarLayoutOptions = {},
): Promise<NarLayout> {
  let header = new Uint8Array(4096);
  let hp = 0;
  let narPos = 0;
  const files: string[] = [];
  const offsets: number[] = [];
  const sizes: number[] = [];
  const headerOffsets: number[] = [];
  const room = (n: number) => {
    if (hp + n <= header.length) return;
    let cap = header.length * 2;
    while (cap < hp + n) cap *= 2;
    const grown = new Uint8Array(cap);
    grown.set(header.subarray(0, hp));
    header = grown;
  };
  await walkNar(source, path, {
    bytes(b) {
      room(b.length);
      header.set(b, hp);
      hp += b.length;
      narPos += b.length;
    },
    u64(value) {
      room(8);
      const lo = value % 0x1_0000_0000;
      const view = new DataView(header.buffer, hp, 8);
      view.setUint32(0, lo, true);
      view.setUint32(4, (value - lo) / 0x1_0000_0000, true);
      hp += 8;
      narPos += 8;
    },
    contents(filePath, size) {
      files.push(filePath);
      offsets.push(narPos);
      sizes.push(size);
      headerOffsets.push(hp);
      narPos += size;
    },
    pause: () => undefined,
  }, options);
  return {
    size: narPos,
    header: header.slice(0, hp),
    files,
    fileOffsets: Float64Array.from(offsets),
    fileSizes: Float64Array.from(sizes),
    fileHeaderOffsets: Float64Array.from(headerOffsets),
  };
}

/**
 * Returns NAR bytes `[offset, offset + length)` of the tree indexed by
 * `layout`, reading only the files the range overlaps.
 * @throws {RangeError} when the range is not inside the NAR.
 * @throws {NarSourceError} when a file is shorter than when it was indexed.
 *
 * @example
 * ```ts
 * import { buildNarLayout, readNarRange } from "./layout.ts";
 * import { memoryNarSource } from "./memory_source.ts";
 * const source = memoryNarSource({ kind: "symlink", target: "x" });
 * const layout = await buildNarLayout(source, "/");
 * (await readNarRange(layout, source, 0, 8))[0]; // 13, the length of "nix-archive-1"
 * ```
 */
export async function readNarRange(
  layout: NarLayout,
  source: NarSource,
  offset: number,
  length: number,
  options: NarLayoutOptions = {},
): Promise<Uint8Array> {
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 ||
    offset + length > layout.size
  ) {
    throw new RangeError(
      `NAR range [${offset}, ${offset + length}) is outside the NAR of ${layout.size} bytes`,
    );
  }
  const { fileOffsets: offs, fileSizes: sizes, fileHeaderOffsets: hoffs } = layout;
  const count = layout.files.length;
  const out = new Uint8Array(length);
  // i = the last file starting at or before `x` (-1: none).
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offs[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  let i = lo - 1;
  let x = offset;
  let o = 0;
  while (o < length) {
    options.signal?.throwIfAborted();
    let n: number;
    const fileEnd = i >= 0 ? offs[i]! + sizes[i]! : 0;
    if (i >= 0 && x < fileEnd) {
      n = Math.min(length - o, fileEnd - x);
      await readFileRange(source, layout.files[i]!, x - offs[i]!, out.subarray(o, o + n));
    } else {
      const h = i >= 0 ? hoffs[i]! + (x - fileEnd) : x;
      const segmentEnd = i + 1 < count ? offs[i + 1]! : layout.size;
      n = Math.min(length - o, segmentEnd - x);
      out.set(layout.header.subarray(h, h + n), o);
    }
    x += n;
    o += n;
    if (i + 1 < count && x >= offs[i + 1]!) i++;
  }
  return out;
}

async function readFileRange(
  source: NarSource,
  path: string,
  position: number,
  into: Uint8Array,
): Promise<void> {
  let file: NarSourceFile;
  try {
    file = await source.open(path);
  } catch (e) {
    throw new NarSourceError(e instanceof Error ? e.message : String(e), path, { cause: e });
  }
  try {
    let done = 0;
    while (done < into.length) {
      const n = await file.read(into.subarray(done), position + done);
      if (n <= 0) {
        throw new NarSourceError(
          `file is shorter than when the NAR layout was built (no data at byte ${position + done})`,
          path,
        );
      }
      done += n;
    }
  } finally {
    await file.close();
  }
}
