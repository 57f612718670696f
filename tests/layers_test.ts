/**
 * Imports point down: every production file under `src/` (and `main.ts`) may
 * import only from its own folder or from a folder below it in {@linkcode ORDER}
 * — apps, then services, adapters, the pure cores and the foundations, as
 * docs/development.md draws them. An import that runs up, or from a folder this
 * list does not place, fails with the file and the line that carries it.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { repoPath, scan } from "./support/imports.ts";

/**
 * Top to bottom: a unit may import the units after it. A unit is a folder of
 * `src/` (the P2P cores `src/p2p/wire`, `scheduler` and `rate` are units of
 * their own) or a top-level file.
 */
const ORDER = [
  // apps: the program's roles, and the gateway and dashboard the daemon serves
  "main.ts",
  "src/cli",
  "src/daemon",
  "src/helper",
  "src/gateway",
  "src/dashboard",
  // services
  "src/p2p",
  "src/config",
  "src/control",
  "src/fetch",
  "src/http",
  // adapters
  "src/fs",
  "src/compress",
  // pure cores
  "src/trust",
  "src/narinfo",
  "src/nar",
  "src/sexp",
  "src/store",
  "src/p2p/wire",
  "src/p2p/scheduler",
  "src/p2p/rate",
  "src/hash",
  // foundations
  "src/encoding",
  "src/events",
  "src/std",
  "src/version.ts",
];

/** Known upward imports, each with the reason it still stands. */
const EXCEPTIONS: Record<string, string> = {};

const ROOT = new URL("../", import.meta.url);

/** The P2P subfolders that are pure cores of their own; the others are parts of the service. */
const P2P_CORES = new Set(["wire", "scheduler", "rate"]);

function unitOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] !== "src" || parts.length === 2) return path;
  if (parts[1] === "p2p" && parts.length > 3 && P2P_CORES.has(parts[2]!)) {
    return parts.slice(0, 3).join("/");
  }
  return parts.slice(0, 2).join("/");
}

async function productionFiles(): Promise<string[]> {
  const files = ["main.ts"];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (/\.ts$/.test(entry.name) && !/_test\.ts$|^_testing\.ts$/.test(entry.name)) {
        files.push(repoPath(url));
      }
    }
  };
  await walk(new URL("src/", ROOT));
  return files.sort();
}

/** The imports of `file` (its text `source`) that run up the layer list. */
function upward(file: string, source: string): string[] {
  const from = unitOf(file);
  const rank = ORDER.indexOf(from);
  if (rank < 0) return [`${file}: its folder ${from} has no place in the layer list`];
  const url = new URL(file, ROOT);
  const problems: string[] = [];
  for (const specifier of scan(source).relative) {
    const target = repoPath(new URL(specifier, url));
    const to = unitOf(target);
    const edge = `${from} -> ${to}`;
    if (to === from || ORDER.indexOf(to) > rank || edge in EXCEPTIONS) continue;
    problems.push(`${file} imports ${target}: ${edge} runs up`);
  }
  return problems;
}

Deno.test("layers: every import points down the layer list", async () => {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const file of await productionFiles()) {
    seen.add(unitOf(file));
    problems.push(...upward(file, await Deno.readTextFile(new URL(file, ROOT))));
  }
  assertEquals(problems, []);
  const unused = ORDER.filter((unit) => !seen.has(unit));
  assertEquals(unused, [], "the layer list names folders that no longer exist");
});

Deno.test("layers: an import that runs up is found (the check can fail)", () => {
  assertEquals(upward("src/daemon/main.ts", 'import type { CliIo } from "../cli/command.ts";'), [
    "src/daemon/main.ts imports src/cli/command.ts: src/daemon -> src/cli runs up",
  ]);
  assertEquals(upward("src/nar/parser.ts", 'const m = await import("../../tests/x.ts");'), [
    "src/nar/parser.ts imports tests/x.ts: src/nar -> tests/x.ts runs up",
  ]);
  assertEquals(upward("src/widgets/page.ts", ""), [
    "src/widgets/page.ts: its folder src/widgets has no place in the layer list",
  ]);
  assertEquals(upward("src/cli/nar.ts", 'import { dumpPath } from "../fs/mod.ts";'), []);
});
