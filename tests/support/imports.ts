/**
 * The import graph of this repository's TypeScript, read from the source text:
 * static and dynamic imports, re-exports and worker URLs
 * (`new URL("./x.ts", import.meta.url)`), with the lines that use `Deno` or
 * start a worker. Comments and string contents are blanked out first, so a
 * `Deno.` in a JSDoc example or an error message does not count.
 *
 * @example
 * ```ts
 * import { importGraph } from "./imports.ts";
 * const graph = await importGraph(new URL("../../src/nar/mod.ts", import.meta.url));
 * for (const [file, info] of graph) console.log(file, info.packages);
 * ```
 * @module
 */

/** What one file of the graph imports and uses. */
export interface FileImports {
  /** The first file found importing this one (repository-relative); undefined for the root. */
  importedBy: string | undefined;
  /** Repository-relative paths of the local files it imports. */
  files: string[];
  /** Bare specifiers (`node:fs`, `@noble/curves/ed25519.js`, ...), sorted. */
  packages: string[];
  /** 1-based lines that use the `Deno` global in code. */
  denoLines: number[];
  /** 1-based lines that start a `Worker`. */
  workerLines: number[];
}

const ROOT = new URL("../../", import.meta.url);

/** Repository-relative path of a file URL. */
export function repoPath(url: URL): string {
  return decodeURIComponent(url.pathname.slice(ROOT.pathname.length));
}

/**
 * Source text in two views of the same length and lines: `code` with comments
 * blanked, `bare` with string and template contents blanked too.
 */
export function blank(source: string): { code: string; bare: string } {
  const code: string[] = [];
  const bare: string[] = [];
  const keep = (c: string, inString: boolean) => {
    code.push(c);
    bare.push(inString && c !== "\n" ? " " : c);
  };
  const drop = (c: string) => {
    const out = c === "\n" ? "\n" : " ";
    code.push(out);
    bare.push(out);
  };
  /** Keeps a backslash escape at `at` as string contents; the index after it. */
  const escape = (at: number): number => {
    keep(source[at]!, true);
    if (at + 1 < source.length) keep(source[at + 1]!, true);
    return at + 2;
  };
  /** Brace depth at which each open template's `${` started. */
  const templates: number[] = [];
  let depth = 0;
  let last = ""; // last significant code character, to tell a regex from a division
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < n && source[i] !== "\n") drop(source[i++]!);
      continue;
    }
    if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      while (i < stop) drop(source[i++]!);
      continue;
    }
    if (c === '"' || c === "'" || c === "/" && /^$|[(,=:[!&|?{};+\-*%<>~^]$/.test(last)) {
      keep(c, false);
      i++;
      let inClass = false;
      while (i < n) {
        const d = source[i]!;
        if (d === "\\") {
          i = escape(i);
          continue;
        }
        if (c === "/" && d === "[") inClass = true;
        if (c === "/" && d === "]") inClass = false;
        if (d === c && !inClass || d === "\n") break;
        keep(d, true);
        i++;
      }
      if (i < n) keep(source[i++]!, false);
      last = "a";
      continue;
    }
    if (c === "`" || c === "}" && templates.at(-1) === depth) {
      if (c === "}") templates.pop();
      keep(c, false);
      i++;
      while (i < n) {
        const d = source[i]!;
        if (d === "\\") {
          i = escape(i);
          continue;
        }
        if (d === "`") {
          keep(d, false);
          i++;
          break;
        }
        if (d === "$" && source[i + 1] === "{") {
          keep("$", false);
          keep("{", false);
          i += 2;
          depth++;
          templates.push(depth);
          break;
        }
        keep(d, true);
        i++;
      }
      last = "a";
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") depth--;
    keep(c, false);
    if (!/\s/.test(c)) last = /[\w$)\].]/.test(c) ? (c === ")" || c === "]" ? ")" : "a") : c;
    i++;
  }
  return { code: code.join(""), bare: bare.join("") };
}

const SPECIFIER =
  /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|\bnew\s+URL\(\s*)(["'])([^"'\n]+)\1(\s*,\s*import\.meta\.url)?/gm;

/** Imports, packages and Deno uses of one file's text. */
export function scan(source: string): {
  relative: string[];
  packages: string[];
  denoLines: number[];
  workerLines: number[];
} {
  const { code, bare } = blank(source);
  const relative: string[] = [];
  const packages = new Set<string>();
  for (const m of code.matchAll(SPECIFIER)) {
    const specifier = m[2]!;
    const isUrl = m[0].includes("URL(");
    if (isUrl && !m[3]) continue; // new URL("https://...") without import.meta.url
    if (specifier.startsWith(".")) relative.push(specifier);
    else if (!isUrl) packages.add(specifier);
  }
  const lines = (pattern: RegExp) =>
    bare.split("\n").flatMap((line, i) => pattern.test(line) ? [i + 1] : []);
  return {
    relative,
    packages: [...packages].sort(),
    denoLines: lines(/(?<![\w$.])Deno\b/),
    workerLines: lines(/\bnew\s+Worker\b/),
  };
}

/**
 * Every local file reachable from `entry` (breadth first), keyed by its
 * repository-relative path.
 */
export async function importGraph(entry: URL): Promise<Map<string, FileImports>> {
  const graph = new Map<string, FileImports>();
  const queue: [URL, string | undefined][] = [[entry, undefined]];
  while (queue.length > 0) {
    const [url, importedBy] = queue.shift()!;
    const path = repoPath(url);
    if (graph.has(path)) continue;
    const found = scan(await Deno.readTextFile(url));
    const files = found.relative.map((s) => new URL(s, url));
    graph.set(path, {
      importedBy,
      files: files.map(repoPath),
      packages: found.packages,
      denoLines: found.denoLines,
      workerLines: found.workerLines,
    });
    for (const file of files) queue.push([file, path]);
  }
  return graph;
}
