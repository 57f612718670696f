/**
 * Section 3 of the substitute-path benchmark: substituting a large NAR
 * (a tree copied from /usr, default ~1 GiB) and a ~100 MB one, served
 * zstd- and lzip-compressed, through emulator → helper → daemon → HTTP,
 * against `curl -s URL | zstd -dc | nix-store --restore DEST` (`lzip -dc` for
 * lzip) from the same server; best of N interleaved runs, CPU of every
 * process, and the peak RSS (VmHWM, read from /proc just before the process
 * is stopped) of a fresh daemon and helper per run.
 *
 * @example
 * ```ts
 * import { narSection } from "./_nar.ts";
 * const lines = await narSection(ctx, { narMiB: 1024, smallMiB: 100, zstdLevel: 19, lzipLevel: 6 });
 * ```
 * @module
 */
import { hexDecode } from "../../src/encoding/hex.ts";
import { formatNarHash } from "../../src/hash/nar_hash.ts";
import type { NarinfoContent } from "../../src/narinfo/mod.ts";
import { signGuixNarinfo } from "../../src/trust/mod.ts";
import { forceRemove } from "../../tests/support/tree_check.ts";
import type { BenchContext } from "./_context.ts";
import { compressCommand, randomHashPart, realisticTree } from "./_fixtures.ts";
import { fmtMiB, fmtS, note, procStats, Runs, sh, timedShell, type Timing } from "../measure.ts";

/** Options of {@linkcode narSection}. */
export interface NarOptions {
  /** Size of the large tree in MiB. */
  narMiB: number;
  /** Size of the small tree in MiB. */
  smallMiB: number;
  /** `zstd -N`. */
  zstdLevel: number;
  /** `lzip -N`. */
  lzipLevel: number;
  /** Reuse (or build and keep) trees, NARs and compressed files in this directory. */
  dataDir?: string | undefined;
  /** Only build the data sets (into `dataDir`), measure nothing. */
  prepareOnly?: boolean;
}

type Format = "zstd" | "lzip";

interface Dataset {
  label: string;
  nar: string;
  narSize: number;
  narHash: string;
  files: string;
  compressed: Record<Format, { path: string; size: number }>;
}

interface Run extends Timing {
  /** Peak RSS (KiB) of the daemon and the helper (ours only). */
  daemonKiB?: number;
  helperKiB?: number;
  daemonCpu?: number;
  helperCpu?: number;
}

const MiB = 1 << 20;

/** Builds (or reuses) a data set of about `mib` MiB under `dir`. */
async function dataset(
  dir: string,
  label: string,
  mib: number,
  options: NarOptions,
): Promise<Dataset> {
  const manifest = `${dir}/${label}.json`;
  const wanted = { mib, zstdLevel: options.zstdLevel, lzipLevel: options.lzipLevel };
  try {
    const saved = JSON.parse(await Deno.readTextFile(manifest));
    if (JSON.stringify(saved.wanted) === JSON.stringify(wanted)) {
      note(`nar: reusing the ${label} data set in ${dir}`);
      return saved.data as Dataset;
    }
  } catch {
    // not built yet
  }
  const tree = `${dir}/${label}-tree`;
  await forceRemove(tree);
  note(`nar: copying ~${mib} MiB from /usr into ${tree} ...`);
  await realisticTree(tree, mib * MiB);
  const nar = `${dir}/${label}.nar`;
  await sh(`nix-store --dump '${tree}' > '${nar}'`, { NIX_REMOTE: "" });
  const narSize = (await Deno.stat(nar)).size;
  const hex = (await sh(`sha256sum '${nar}'`)).split(" ")[0]!;
  const files = await sh(
    `echo "$(find '${tree}' -type f | wc -l) files, $(find '${tree}' -type l | wc -l) symlinks, ` +
      `$(find '${tree}' -type d | wc -l) directories"`,
  );
  const compressed = {} as Dataset["compressed"];
  for (const format of ["zstd", "lzip"] as const) {
    const level = format === "zstd" ? options.zstdLevel : options.lzipLevel;
    const path = `${nar}.${format === "zstd" ? "zst" : "lz"}`;
    note(`nar: ${compressCommand(format, level)} ${label}.nar ...`);
    // Niced: preparing data is not measured, and the machine is shared.
    await sh(`nice -n 10 ${compressCommand(format, level)} '${nar}' > '${path}'`);
    compressed[format] = { path, size: (await Deno.stat(path)).size };
  }
  await forceRemove(tree); // the NAR is all the benchmark needs from now on
  const data: Dataset = {
    label,
    nar,
    narSize,
    narHash: formatNarHash(hexDecode(hex)),
    files,
    compressed,
  };
  await Deno.writeTextFile(manifest, JSON.stringify({ wanted, data }, null, 1));
  return data;
}

/** Runs the section; returns its report lines. */
export async function narSection(ctx: BenchContext, options: NarOptions): Promise<string[]> {
  const dataDir = options.dataDir ?? `${ctx.work}/nar-data`;
  await Deno.mkdir(dataDir, { recursive: true });
  const sets = [
    await dataset(dataDir, `small-${options.smallMiB}`, options.smallMiB, options),
    await dataset(dataDir, `large-${options.narMiB}`, options.narMiB, options),
  ];
  if (options.prepareOnly) return [];
  // Publish one store item per (data set, format): same NAR, one narinfo entry each.
  const items: Record<string, { storePath: string; url: string }> = {};
  for (const set of sets) {
    for (const format of ["zstd", "lzip"] as const) {
      const name = `${randomHashPart()}-bench-${set.label}-${format}`;
      const rel = `nar/${format}/${name}`;
      await Deno.mkdir(`${ctx.cacheDir}/nar/${format}`, { recursive: true });
      await Deno.symlink(set.compressed[format].path, `${ctx.cacheDir}/${rel}`);
      const info: NarinfoContent = {
        storePath: `${ctx.store}/${name}`,
        narHash: set.narHash,
        narSize: set.narSize,
        references: [],
        entries: [{ url: rel, compression: format, fileSize: set.compressed[format].size }],
      };
      await Deno.writeTextFile(
        `${ctx.cacheDir}/${name.slice(0, 32)}.narinfo`,
        signGuixNarinfo(info, ctx.key.key, "bench"),
      );
      items[`${set.label}/${format}`] = {
        storePath: info.storePath,
        url: `${ctx.serverUrl}/${rel}`,
      };
    }
  }

  const curlDest = `${ctx.work}/curl-dest`;
  const clean = async (path: string) => {
    await forceRemove(path);
    await sh("sync");
  };
  const best = new Runs<Run>();
  const verified = new Set<string>();

  const ours = async (set: Dataset, format: Format): Promise<Run> => {
    const item = items[`${set.label}/${format}`]!;
    await clean(item.storePath);
    // A fresh daemon per run: its VmHWM then covers this substitution only.
    await using daemon = await ctx.daemon();
    const d0 = procStats(daemon.child.pid).cpuWithChildren;
    const t0 = performance.now();
    await using s = ctx.agent("--substitute", daemon.configPath);
    const out = await s.substitute(item.storePath, item.storePath, 600_000);
    const wall = (performance.now() - t0) / 1000;
    const helper = procStats(s.child.pid);
    const d = procStats(daemon.child.pid);
    const [helperCpu, daemonCpu] = [helper.cpuWithChildren, d.cpuWithChildren - d0];
    if (out.status !== `success ${set.narHash} ${set.narSize}`) {
      throw new Error(`${set.label} ${format}: status "${out.status}"; log:\n${s.log.join("\n")}`);
    }
    if (!verified.has(item.storePath)) {
      // Once per item: the restored tree dumps back to the very same NAR.
      await sh(`nix-store --dump '${item.storePath}' | cmp - '${set.nar}'`, { NIX_REMOTE: "" });
      verified.add(item.storePath);
    }
    return {
      wall,
      cpu: helperCpu + daemonCpu,
      rssKiB: Math.max(helper.hwmKiB, d.hwmKiB),
      daemonKiB: d.hwmKiB,
      helperKiB: helper.hwmKiB,
      daemonCpu,
      helperCpu,
    };
  };
  const pipeline = async (set: Dataset, format: Format): Promise<Run> => {
    await clean(curlDest);
    return await timedShell(
      `curl -s --fail '${items[`${set.label}/${format}`]!.url}' | ${format} -dc | ` +
        `nix-store --restore '${curlDest}'`,
      { NIX_REMOTE: "" },
    );
  };

  for (const set of sets) {
    for (const format of ["zstd", "lzip"] as const) {
      const key = `${set.label}/${format}`;
      const contenders = [["ours", ours], ["pipeline", pipeline]] as const;
      for (let run = 0; run < ctx.runs; run++) {
        for (let k = 0; k < contenders.length; k++) {
          const [name, fn] = contenders[(k + run) % contenders.length]!;
          const r = await fn(set, format);
          note(
            `  ${key} ${name}: ${fmtS(r.wall)}, cpu ${r.cpu.toFixed(2)} s` +
              (r.daemonKiB !== undefined
                ? `, daemon ${fmtMiB(r.daemonKiB)} helper ${fmtMiB(r.helperKiB!)}`
                : `, max rss ${fmtMiB(r.rssKiB)}`),
          );
          best.add(`${key}/${name}`, r);
        }
      }
      await clean(items[key]!.storePath);
      await clean(curlDest);
    }
  }

  const mb = (n: number) => (n / 1e6).toFixed(0);
  const lines = [
    "### Substituting a large NAR",
    "",
    "Trees copied from `/usr` (Python and Perl modules, executables, shared libraries, docs,",
    "locales, man pages; regular files, executables and symlinks), dumped by `nix-store --dump`,",
    `compressed with \`${compressCommand("zstd", options.zstdLevel)}\` and \`${
      compressCommand("lzip", options.lzipLevel)
    }\` (plzip):`,
    "",
    "| data set | NAR | contents | zstd file | lzip file |",
    "| -------- | --- | -------- | --------- | --------- |",
    ...sets.map((s) =>
      `| ${s.label} | ${mb(s.narSize)} MB | ${s.files} | ${mb(s.compressed.zstd.size)} MB | ${
        mb(s.compressed.lzip.size)
      } MB |`
    ),
    "",
    `Ours: spawn of \`bin/guix-p2p-substitute --substitute\` by the emulator → \`success\` status`,
    "(a fresh daemon per run, http-only; the helper restores into a scratch directory while hashing",
    "and renames it into place; the daemon hashes too). Baseline: `curl -s URL | zstd -dc |",
    "nix-store --restore DEST` (`lzip -dc` for lzip; no hash check at all) from the same server.",
    `Best of ${ctx.runs} interleaved runs; destinations emptied and \`sync\`ed before each run`,
    "(restores are not synced). CPU: all processes of the run (ours: helper + daemon with the",
    "daemon's `lzip -dc` children, from /proc; baseline: the pipeline, from `/usr/bin/time`).",
    '"Speed vs baseline" = baseline time / our time',
    "(target ≥ 0.8). Peak RSS: VmHWM of the daemon and of the helper just before they stop (target",
    "< 150 MB each); for the baseline, the largest process of the pipeline.",
    "",
    "| data set | format | pipeline (baseline) | ours | speed vs baseline | CPU baseline / ours | peak RSS daemon / helper | baseline max RSS |",
    "| -------- | ------ | ------------------- | ---- | ----------------- | ------------------- | ------------------------ | ---------------- |",
  ];
  for (const set of sets) {
    for (const format of ["zstd", "lzip"] as const) {
      const key = `${set.label}/${format}`;
      const o = best.best(`${key}/ours`);
      const p = best.best(`${key}/pipeline`);
      const peak = (name: "daemonKiB" | "helperKiB") =>
        fmtMiB(Math.max(...best.all.get(`${key}/ours`)!.map((r) => r[name]!)));
      lines.push(
        `| ${set.label} (${mb(set.narSize)} MB) | ${format} | ${fmtS(p.wall)} (${
          mb(set.narSize / p.wall)
        } MB/s) | ${fmtS(o.wall)} (${mb(set.narSize / o.wall)} MB/s) | ${
          (p.wall / o.wall).toFixed(2)
        } | ${p.cpu.toFixed(2)} s / ${o.cpu.toFixed(2)} s (helper ${
          o.helperCpu!.toFixed(2)
        } + daemon ${o.daemonCpu!.toFixed(2)}) | ${peak("daemonKiB")} / ${peak("helperKiB")} | ${
          fmtMiB(p.rssKiB)
        } |`,
      );
    }
  }
  lines.push("");
  return lines;
}
