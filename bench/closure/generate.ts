/**
 * A Guix-like closure for the closure benchmark: `n` store items whose sizes
 * follow the mix of a real system closure (~75 % of items 2–200 KB, ~20 %
 * 0.3–5 MB, ~5 % 10–40 MB; half of each item's bytes random, half text),
 * each a small tree (a few files, more for larger items), linked by
 * references into a DAG (item i refers only to items j < i, so index order is
 * a valid substitution order). Everything is derived from `seed`.
 *
 * @example
 * ```ts
 * import { generateClosure } from "./generate.ts";
 * const items = await generateClosure("/tmp/closure-src", { n: 150, seed: 1 });
 * console.log(items.length, items.reduce((s, i) => s + i.bytes, 0));
 * ```
 * @module
 */
import { mulberry32 } from "../../tests/support/random.ts";

/** One generated item (its tree is at `source`). */
export interface GeneratedItem {
  /** Package-like name, e.g. `pkg-017-1.0`. */
  name: string;
  /** Directory holding the item's tree. */
  source: string;
  /** File bytes written. */
  bytes: number;
  /** Indexes of the items it refers to (all smaller than its own). */
  refs: number[];
}

const KB = 1000;
const MB = 1000 * 1000;
const WORDS = (
  "the of and to in is that for it as with was on be by this are or from at which an not have " +
  "guix store substitute narinfo daemon build package profile system reference closure library " +
  "define module use lambda let string append list file directory path output input native " +
  "copyright license gnu free software documentation manual example function return value"
).split(" ");

/** Item sizes in bytes for the mix, in a seeded shuffled order. */
export function closureSizes(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const logUniform = (lo: number, hi: number) => Math.round(lo * Math.pow(hi / lo, rand()));
  const big = Math.max(n >= 20 ? 1 : 0, Math.round(n * 0.05));
  const medium = Math.round(n * 0.2);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i < big) sizes.push(logUniform(10 * MB, 40 * MB));
    else if (i < big + medium) sizes.push(logUniform(300 * KB, 5 * MB));
    else sizes.push(logUniform(2 * KB, 200 * KB));
  }
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
  }
  return sizes;
}

/** Writes the closure's trees under `dir` (which must not exist); returns the items in order. */
export async function generateClosure(
  dir: string,
  options: { n: number; seed: number },
): Promise<GeneratedItem[]> {
  const rand = mulberry32(options.seed * 7919 + 1);
  const sizes = closureSizes(options.n, options.seed);
  const items: GeneratedItem[] = [];
  let x = (options.seed * 2654435761) >>> 0 || 1;
  const randomBytes = (n: number) => {
    const out = new Uint8Array(Math.ceil(n / 4) * 4);
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    return out.subarray(0, n);
  };
  const text = (n: number) => {
    const parts: string[] = [];
    let len = 0;
    while (len < n) {
      const w = WORDS[Math.floor(rand() * WORDS.length)]!;
      const sep = rand() < 0.08 ? "\n" : " ";
      parts.push(w, sep);
      len += w.length + 1;
    }
    return new TextEncoder().encode(parts.join("").slice(0, n));
  };
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]!;
    const name = `pkg-${String(i).padStart(3, "0")}-1.0`;
    const source = `${dir}/${name}`;
    // A few files for small items, up to ~40 for the large ones.
    const files = Math.min(40, 2 + Math.floor(size / (512 * KB)));
    const binary = Math.floor(size / 2);
    const textual = size - binary;
    await Deno.mkdir(`${source}/bin`, { recursive: true });
    await Deno.mkdir(`${source}/lib`, { recursive: true });
    await Deno.mkdir(`${source}/share/doc/${name}`, { recursive: true });
    const binFiles = Math.max(1, Math.floor(files / 2));
    const textFiles = Math.max(1, files - binFiles);
    for (let f = 0; f < binFiles; f++) {
      const n = Math.floor(binary / binFiles) + (f === 0 ? binary % binFiles : 0);
      const path = f === 0 ? `${source}/bin/${name}` : `${source}/lib/lib${f}.so`;
      await Deno.writeFile(path, randomBytes(n), { mode: 0o755 });
      await Deno.chmod(path, 0o755);
    }
    for (let f = 0; f < textFiles; f++) {
      const n = Math.floor(textual / textFiles) + (f === 0 ? textual % textFiles : 0);
      await Deno.writeFile(`${source}/share/doc/${name}/part-${f}.txt`, text(n));
    }
    await Deno.symlink(`../bin/${name}`, `${source}/lib/${name}-link`);
    const refs: number[] = [];
    const want = i === 0 ? 0 : Math.min(i, Math.floor(rand() * 6));
    while (refs.length < want) {
      // Favour recent items (libraries near the top of the closure), like real closures.
      const j = Math.max(0, i - 1 - Math.floor(Math.pow(rand(), 2) * i));
      if (!refs.includes(j)) refs.push(j);
    }
    items.push({ name, source, bytes: size, refs: refs.sort((a, b) => a - b) });
  }
  return items;
}
