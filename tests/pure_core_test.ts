/**
 * The pure cores stay pure: walks the import graph of each core `mod.ts` (static
 * and dynamic imports, re-exports, worker URLs) and fails on a `deno_*` file,
 * a use of `Deno`, a worker, or a package that can reach the operating system.
 * The adapters that do call `Deno.*` live in `src/fs/` and the `deno_*.ts` files
 * of the outer layers.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { importGraph, scan } from "./support/imports.ts";

/** The core modules: they take bytes and streams and return values. */
const CORES = [
  "src/encoding/mod.ts",
  "src/hash/mod.ts",
  "src/store/mod.ts",
  "src/sexp/mod.ts",
  "src/nar/mod.ts",
  "src/narinfo/mod.ts",
  "src/trust/mod.ts",
  "src/p2p/wire/mod.ts",
  "src/p2p/scheduler/mod.ts",
  "src/p2p/narinfo/encode.ts",
  "src/p2p/narinfo/decode.ts",
];

/** Packages a core may import: computation only, no file, process or network access. */
const PURE_PACKAGES = new Set([
  "node:crypto",
  "node:zlib",
  "@noble/curves/abstract/curve.js",
  "@noble/curves/abstract/edwards.js",
  "@noble/curves/ed25519.js",
  "@noble/hashes/hmac.js",
  "@noble/hashes/sha2.js",
  "uint8arraylist",
]);

const ROOT = new URL("../", import.meta.url);

for (const core of CORES) {
  Deno.test(`pure core: ${core} reaches no Deno API through any import`, async () => {
    const graph = await importGraph(new URL(core, ROOT));
    const problems: string[] = [];
    for (const [file, info] of graph) {
      const name = file.slice(file.lastIndexOf("/") + 1);
      const via = info.importedBy ? ` (imported by ${info.importedBy})` : "";
      if (name.startsWith("deno_")) problems.push(`${file}: a Deno adapter${via}`);
      for (const line of info.denoLines) {
        problems.push(`${file}:${line}: uses Deno${via}`);
      }
      for (const line of info.workerLines) {
        problems.push(`${file}:${line}: starts a worker${via}`);
      }
      for (const specifier of info.packages) {
        if (!PURE_PACKAGES.has(specifier)) {
          problems.push(`${file}: imports ${specifier}${via}`);
        }
      }
    }
    assertEquals(problems, [], `${core} is not pure`);
  });
}

Deno.test("pure core: the walk sees Deno uses, deno_* files and workers (the check can fail)", async () => {
  // The file-system adapters are everything a core must not be.
  const graph = await importGraph(new URL("src/fs/mod.ts", ROOT));
  const files = [...graph.keys()];
  const deno = files.filter((f) => graph.get(f)!.denoLines.length > 0);
  const workers = files.filter((f) => graph.get(f)!.workerLines.length > 0);
  assertEquals(
    ["src/fs/deno_nar_source.ts", "src/fs/deno_restore_target.ts", "src/fs/hash_path.ts"]
      .every((f) => files.includes(f)),
    true,
    files.join(", "),
  );
  assertEquals(deno.includes("src/fs/deno_nar_source.ts"), true, deno.join(", "));
  assertEquals(deno.includes("src/fs/_restore_worker.ts"), true, "the worker URL is followed");
  assertEquals(files.includes("src/fs/_hash_worker.ts"), true, "the worker URL is followed");
  assertEquals(workers.sort(), ["src/fs/deno_restore_target.ts", "src/fs/hash_path.ts"]);
  assertEquals(graph.get("src/fs/deno_restore_target.ts")!.packages, ["node:fs"]);
});

Deno.test("pure core: comments and strings do not count, code in templates does", () => {
  const found = scan([
    "/** @example Deno.exit(1) */",
    'import { a } from "./a.ts"; // Deno.exit()',
    'const msg = "cannot run under Deno.";',
    "const re = /[\"']Deno/;",
    "const t = `pid ${Deno.pid} of Deno`;",
    'export { b } from "../b.ts";',
    'const w = new Worker(new URL("./w.ts", import.meta.url).href);',
    'const { c } = await import("node:fs");',
  ].join("\n"));
  assertEquals(found.relative, ["./a.ts", "../b.ts", "./w.ts"]);
  assertEquals(found.packages, ["node:fs"]);
  assertEquals(found.denoLines, [5]);
  assertEquals(found.workerLines, [7]);
});
