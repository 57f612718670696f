/**
 * NAR benchmark: our `nar hash` and `nar restore` against `nix hash path` and
 * `nix-store --restore` on the same ~1 GiB tree, measured side by side in one
 * run (runs interleaved, best of N, after a warm-up), with each process's CPU
 * time (user + system, from /usr/bin/time) next to its wall time, plus our
 * peak RSS while restoring a ~200 MB and a ~1 GiB NAR.
 *
 * Usage: `./dev bench nar [--scale 1] [--runs 3] [--dir DIR] [--keep]`
 * (`--scale 0.1` builds a ~100 MB tree for a quick look; `--dir` puts the
 * tree, the NAR and the restores under DIR, e.g. a tmpfs, default /tmp.)
 *
 * "ours" runs `bin/guix-p2p nar ...` (the shipped launcher and its permission
 * flags, deno start-up included), like the nix tools. For reference the same
 * code also runs with `deno run -A main.ts nar ...` (Deno's per-path
 * permission checks cost several µs per opened file) and, for restore, with
 * the worker thread disabled.
 *
 * @module
 */
import process from "node:process";
import { hashPath, restoreNarToPath } from "../src/fs/mod.ts";
import { parseFlags } from "../src/std/cli.ts";
import { mulberry32 } from "../tests/support/random.ts";
import { writeLargeFile } from "../tests/support/tree_gen.ts";
import { loadavg, sh as shell } from "./measure.ts";

const { flags } = parseFlags(Deno.args, {
  string: ["scale", "runs", "dir"],
  boolean: ["keep"],
});
const scale = Number(flags.scale ?? "1");
const runs = Number(flags.runs ?? "3");
const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const launcher = `${root}/bin/guix-p2p`;
const denoAll = `${Deno.execPath()} run -A --quiet --cached-only ${root}/main.ts`;
const NIX_ENV = { NIX_REMOTE: "", NIX_CONFIG: "experimental-features = nix-command" };
const MiB = 1 << 20;

/** ~1 GiB at scale 1: 3 large files, 300 medium, 50,000 small, 5,000 symlinks. */
async function buildTree(dir: string): Promise<void> {
  await Deno.mkdir(dir);
  const rand = mulberry32(2024);
  const block = new Uint8Array(64 << 10);
  await Deno.mkdir(`${dir}/large`);
  for (let i = 0; i < 3; i++) {
    await writeLargeFile(`${dir}/large/blob-${i}.bin`, Math.round(200 * MiB * scale), 17 + i);
  }
  await Deno.mkdir(`${dir}/medium`);
  for (let i = 0; i < Math.round(100 * scale); i++) {
    await writeLargeFile(`${dir}/medium/m-${i}.dat`, MiB, 100 + i);
  }
  for (let i = 0; i < Math.round(200 * scale); i++) {
    await writeLargeFile(`${dir}/medium/q-${i}.dat`, 256 << 10, 1000 + i, i % 5 === 0);
  }
  for (let d = 0; d < Math.max(1, Math.round(500 * scale)); d++) {
    const sub = `${dir}/small/pkg-${d}/share/doc`;
    await Deno.mkdir(sub, { recursive: true });
    await Deno.mkdir(`${dir}/small/pkg-${d}/empty`);
    for (let f = 0; f < 100; f++) {
      const size = rand() < 0.05 ? 0 : Math.floor(rand() * 10240);
      crypto.getRandomValues(block.subarray(0, Math.min(size, 65536)));
      const path = `${sub}/file-${f}.txt`;
      Deno.writeFileSync(path, block.subarray(0, size), { mode: 0o644 });
      Deno.chmodSync(path, rand() < 0.25 ? 0o755 : 0o644);
    }
    for (let s = 0; s < 10; s++) {
      Deno.symlinkSync(
        s % 2 ? `share/doc/file-${s}.txt` : `/gnu/store/abc-missing-${s}`,
        `${dir}/small/pkg-${d}/link-${s}`,
      );
    }
  }
}

interface Timing {
  wall: number;
  cpu: number;
  rssKiB: number;
  stdout: string;
}

/** Runs a shell script under /usr/bin/time; wall seconds, CPU seconds, max RSS. */
async function timed(script: string): Promise<Timing> {
  const start = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%U %S %M", "bash", "-c", script],
    env: NIX_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - start) / 1000;
  const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
  if (!out.success) throw new Error(`failed: ${script}\n${stderr.join("\n")}`);
  const [user, sys, rss] = stderr[stderr.length - 1]!.split(" ").map(Number);
  return {
    wall,
    cpu: user! + sys!,
    rssKiB: rss!,
    stdout: new TextDecoder().decode(out.stdout).trim(),
  };
}

/** Runs each contender `runs` times, interleaved (order rotating); keeps the best wall time. */
async function compare(
  title: string,
  contenders: Record<string, () => string>,
  before?: () => Promise<void>,
): Promise<Record<string, Timing>> {
  const best: Record<string, Timing> = {};
  const names = Object.keys(contenders);
  console.error(title);
  for (let i = 0; i < runs; i++) {
    const order = names.map((_, k) => names[(k + i) % names.length]!);
    for (const name of order) {
      await before?.();
      const t = await timed(contenders[name]!());
      console.error(`  ${name}: wall ${t.wall.toFixed(3)} s, cpu ${t.cpu.toFixed(2)} s`);
      if (!best[name] || t.wall < best[name]!.wall) best[name] = t;
    }
  }
  return best;
}

async function sh(script: string): Promise<void> {
  await shell(script, NIX_ENV);
}

/** CPU seconds of the calling (main) thread so far. */
function mainThreadCpu(): number {
  const stat = Deno.readTextFileSync("/proc/thread-self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

interface ThreadTiming {
  wall: number;
  cpu: number;
  main: number;
}

/** Runs `fn` in this process: wall time, process CPU and main-thread CPU. */
async function inProcess(fn: () => Promise<unknown>): Promise<ThreadTiming> {
  const m0 = mainThreadCpu();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return {
    wall: (performance.now() - t0) / 1000,
    cpu: (c.user + c.system) / 1e6,
    main: mainThreadCpu() - m0,
  };
}

const work = await Deno.makeTempDir({
  prefix: "nar-bench-",
  ...(flags.dir ? { dir: flags.dir } : {}),
});
try {
  const loadBefore = loadavg();
  const tree = `${work}/tree`;
  console.error(`building the tree (scale ${scale}) in ${tree} ...`);
  await buildTree(tree);
  const nar = `${work}/tree.nar`;
  await sh(`nix-store --dump ${tree} > ${nar}`);
  const narSize = (await Deno.stat(nar)).size;
  const count = async (type: string) => (await timed(`find ${tree} -type ${type} | wc -l`)).stdout;
  const [files, links, dirs] = [await count("f"), await count("l"), await count("d")];
  console.error(`tree: ${files} files, ${links} symlinks, ${dirs} dirs; NAR ${narSize} bytes`);

  // Warm-up: page cache, deno module cache.
  await sh(`cat ${nar} > /dev/null; nix hash path ${tree} > /dev/null`);
  await sh(`${launcher} nar hash ${tree} > /dev/null; ${denoAll} nar hash ${tree} > /dev/null`);

  const hash = await compare("hash", {
    "nix hash path": () => `nix hash path --base32 --type sha256 ${tree}`,
    "guix-p2p nar hash": () => `${launcher} nar hash ${tree}`,
    "deno run -A main.ts nar hash": () => `${denoAll} nar hash ${tree}`,
  });
  if (hash["guix-p2p nar hash"]!.stdout !== `sha256:${hash["nix hash path"]!.stdout}`) {
    throw new Error(`hash mismatch: ${JSON.stringify(hash)}`);
  }

  const dest = `${work}/dest`;
  const clean = () => sh(`chmod -R u+w ${dest} 2>/dev/null; rm -rf ${dest}; sync`);
  const restore = await compare("restore", {
    "nix-store --restore": () => `nix-store --restore ${dest} < ${nar}`,
    "guix-p2p nar restore": () => `${launcher} nar restore ${dest} < ${nar}`,
    "deno run -A main.ts nar restore": () => `${denoAll} nar restore ${dest} < ${nar}`,
    "… -A, no worker thread": () => `${denoAll} nar restore --no-worker ${dest} < ${nar}`,
  }, clean);
  await sh(`nix-store --dump ${dest} | cmp - ${nar}`);

  // In this process (-A): how the work splits between the main thread and the others.
  console.error("in-process, per thread");
  const threads: Record<string, ThreadTiming> = {};
  const keepBest = (name: string, t: ThreadTiming) => {
    console.error(
      `  ${name}: wall ${t.wall.toFixed(3)} s, cpu ${t.cpu.toFixed(2)} s, main ${
        t.main.toFixed(2)
      } s`,
    );
    if (!threads[name] || t.wall < threads[name]!.wall) threads[name] = t;
  };
  for (let i = 0; i < runs; i++) {
    keepBest("hashPath, worker: false", await inProcess(() => hashPath(tree, { worker: false })));
    keepBest("hashPath", await inProcess(() => hashPath(tree)));
    for (
      const [name, workerThreshold] of [["restoreNarToPath, no worker", Infinity], [
        "restoreNarToPath",
        undefined,
      ]] as const
    ) {
      await clean();
      const file = await Deno.open(nar);
      keepBest(
        name,
        await inProcess(() => restoreNarToPath(file.readable, dest, { workerThreshold })),
      );
    }
  }
  await clean();

  // Peak RSS: a ~200 MB NAR against the ~1 GiB one.
  const smallNar = `${work}/blob.nar`;
  await sh(`nix-store --dump ${tree}/large/blob-0.bin > ${smallNar}`);
  const smallSize = (await Deno.stat(smallNar)).size;
  await clean();
  const rssSmall = (await timed(`${launcher} nar restore ${dest} < ${smallNar}`)).rssKiB;
  await clean();
  const rssBig = (await timed(`${launcher} nar restore ${dest} < ${nar}`)).rssKiB;
  await clean();
  const loadAfter = loadavg();

  const fsType = (await timed(`findmnt -n -o FSTYPE -T ${work}`)).stdout;
  const cpuModel = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1];
  const nixVersion = (await timed("nix --version")).stdout;
  const f3 = (x: number) => x.toFixed(3);
  const mbs = (s: number) => (narSize / 1e6 / s).toFixed(0);
  const row = (name: string, t: Timing, base: Timing) =>
    `| ${name} | ${f3(t.wall)} s (${mbs(t.wall)} MB/s) | ${t.cpu.toFixed(2)} s | ${
      (base.wall / t.wall).toFixed(2)
    }× | ${(base.cpu / t.cpu).toFixed(2)}× |`;
  const lines = [
    `- Machine: ${navigator.hardwareConcurrency} × ${cpuModel}, ${
      Math.round(Deno.systemMemoryInfo().total / 2 ** 30)
    } GiB RAM, Linux ${Deno.osRelease()}, work dir on ${fsType}; Deno ${Deno.version.deno}, ${nixVersion}. ` +
    `Load average ${loadBefore} before, ${loadAfter} after (other jobs shared the machine).`,
    `- Tree: ${files} files (3 large, ${Math.round(300 * scale)} medium, ${
      Math.round(50000 * scale)
    } small), ${links} symlinks, ${dirs} directories; NAR ${narSize} bytes.`,
    `- Command: \`./dev bench nar --scale ${scale} --runs ${runs}${
      flags.dir ? ` --dir ${flags.dir}` : ""
    }\`. Best wall time of ${runs} interleaved runs after a warm-up (page cache warm; ` +
    "restores start from an emptied, synced directory and are not synced themselves). " +
    "CPU = user + system of that run. Ratios: baseline / ours (> 1 means we are faster).",
    "",
    "| Operation | Wall | CPU | Wall ratio | CPU ratio |",
    "|---|---|---|---|---|",
    row("`nix hash path` (baseline)", hash["nix hash path"]!, hash["nix hash path"]!),
    row("`bin/guix-p2p nar hash`", hash["guix-p2p nar hash"]!, hash["nix hash path"]!),
    row(
      "`deno run -A main.ts nar hash`",
      hash["deno run -A main.ts nar hash"]!,
      hash["nix hash path"]!,
    ),
    row(
      "`nix-store --restore` (baseline)",
      restore["nix-store --restore"]!,
      restore["nix-store --restore"]!,
    ),
    row(
      "`bin/guix-p2p nar restore`",
      restore["guix-p2p nar restore"]!,
      restore["nix-store --restore"]!,
    ),
    row(
      "`deno run -A main.ts nar restore`",
      restore["deno run -A main.ts nar restore"]!,
      restore["nix-store --restore"]!,
    ),
    row(
      "… same, worker thread off",
      restore["… -A, no worker thread"]!,
      restore["nix-store --restore"]!,
    ),
    "",
    "In-process (`-A`), per thread: the critical path (busiest thread) is what a free second core",
    "would leave; other threads = workers, Deno's I/O threads and GC helpers.",
    "",
    "| Call | Wall | CPU | Main thread | Other threads |",
    "|---|---|---|---|---|",
    ...Object.entries(threads).map(([name, t]) =>
      `| \`${name}\` | ${f3(t.wall)} s | ${t.cpu.toFixed(2)} s | ${t.main.toFixed(2)} s | ${
        (t.cpu - t.main).toFixed(2)
      } s |`
    ),
    "",
    `Peak RSS of \`bin/guix-p2p nar restore\`: ${Math.round(rssSmall / 1024)} MiB for a ${
      (smallSize / 1e6).toFixed(0)
    } MB NAR, ${Math.round(rssBig / 1024)} MiB for the ${(narSize / 1e6).toFixed(0)} MB NAR ` +
    `(nix-store --restore: ${Math.round(restore["nix-store --restore"]!.rssKiB / 1024)} MiB).`,
  ];
  console.log(lines.join("\n"));
} finally {
  if (flags.keep) console.error(`kept ${work}`);
  else await sh(`chmod -R u+w ${work}; rm -rf ${work}`);
}
