/**
 * Substitute-path benchmark: guix-daemon (the emulator of
 * `tests/support/guix_daemon.ts`) → `bin/guix-p2p-substitute` → the daemon
 * (`bin/guix-p2p --daemon`, http-only) → a local HTTP server serving a signed
 * cache, each figure next to a baseline measured in the same run.
 *
 * 1. `have` of N paths (default 1000): cold (empty daemon cache), warm (same
 *    helper, second request), a fresh helper with the daemon warm, and the
 *    daemon restarted on its warm disk cache; baseline: `curl` fetching the
 *    same narinfos (16 in parallel, as the daemon's `http_parallelism`, and
 *    one at a time on one connection).
 * 2. Helper start-up: spawn (as the emulator does) → first reply to a cached
 *    single-path `have`; baselines: a `sh` script and a trivial Deno program
 *    answering on fd 4; variants: deno run without the sh launcher, a bundled
 *    file of the helper alone (`deno bundle`, standing in for `deno compile`), and a
 *    replica that time-stamps each start-up step (`bench/substitute/phases_child.ts`).
 * 3. Substituting a large NAR (default ~1 GiB tree copied from /usr) served
 *    zstd-compressed (`zstd -19`) and lzip-compressed (`lzip -6`, plzip):
 *    spawn → `success` status, against `curl -s URL | zstd -dc |
 *    nix-store --restore DEST` (and `lzip -dc`), best of N interleaved; peak
 *    RSS (VmHWM) of the daemon and the helper for a ~100 MB and the large NAR.
 *
 * Usage: `./dev bench substitute [--only have,startup,nar] [--paths 1000]
 * [--runs 3] [--starts 10] [--nar-mb 1024] [--small-mb 100] [--zstd-level 19]
 * [--lzip-level 6] [--decompressor auto|builtin|external] [--dir /tmp] [--data DIR] [--keep]`. `--data DIR` keeps the
 * NARs and their compressed files in DIR and reuses them on the next run
 * (`zstd -19` of 1 GiB takes minutes; `--prepare` only builds them). The report (markdown) goes to stdout,
 * progress to stderr.
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import { HELPER, ROOT, startDaemon } from "../../tests/support/daemon_proc.ts";
import { makeKey, writeGuixConfig } from "../../tests/support/guix_cache.ts";
import { SubstituterAgent } from "../../tests/support/guix_daemon.ts";
import { startFileServer } from "../../tests/support/http_server.ts";
import { forceRemove } from "../../tests/support/tree_check.ts";
import type { BenchContext } from "./_context.ts";
import { haveSection } from "./_have.ts";
import { loadavg, machine, note } from "../measure.ts";
import { narSection } from "./_nar.ts";
import { startupSection } from "./_startup.ts";

const { flags } = parseFlags(Deno.args, {
  string: [
    "decompressor",
    "only",
    "paths",
    "runs",
    "starts",
    "nar-mb",
    "small-mb",
    "zstd-level",
    "lzip-level",
    "dir",
    "data",
  ],
  boolean: ["keep", "prepare"],
  positionals: false,
});
const only = new Set((flags.only ?? "have,startup,nar").split(","));
const num = (name: string, value: string | undefined, fallback: number): number => {
  const n = Number(value ?? fallback);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`--${name}: expected a positive number, got "${value}"`);
  }
  return n;
};

const work = await Deno.makeTempDir({
  prefix: "guix-p2p-bench-sub-",
  ...(flags.dir ? { dir: flags.dir } : {}),
});
const store = `${work}/store`;
await Deno.mkdir(store);
const key = makeKey();
const guixConf = `${work}/etc-guix`;
await writeGuixConfig(guixConf, key);
const cacheDir = `${work}/cache`;
await Deno.mkdir(cacheDir);
const server = await startFileServer({ root: cacheDir });
const loadBefore = loadavg();
let daemons = 0;

const ctx: BenchContext = {
  work,
  store,
  cacheDir,
  serverUrl: server.url,
  key,
  runs: num("runs", flags.runs, 3),
  daemon: (daemonCache) =>
    startDaemon(`${work}/daemon-${++daemons}`, {
      store_dir: store,
      acl_path: `${guixConf}/acl`,
      substitute_urls: [server.url],
      policy: "http-only",
      ...(flags.decompressor ? { decompressor: flags.decompressor } : {}),
      ...(daemonCache ? { cache_dir: daemonCache } : {}),
    }),
  agent: (mode, daemonConfig, program = [HELPER], env = {}) => {
    const options = {
      program,
      env: { GUIX_P2P_CONFIG: daemonConfig, NIX_STORE_DIR: store, ...env },
      settings: { "substitute-urls": server.url },
      storeDir: store,
    };
    return mode === "--query" ? SubstituterAgent.query(options) : SubstituterAgent.substitute({
      ...options,
      settings: { ...options.settings, "untrusted-print-extended-build-trace": "1" },
    });
  },
};

const report: string[] = [];
try {
  if (only.has("have")) report.push(...await haveSection(ctx, num("paths", flags.paths, 1000)));
  if (only.has("startup")) {
    report.push(...await startupSection(ctx, num("starts", flags.starts, 10)));
  }
  if (only.has("nar")) {
    report.push(
      ...await narSection(ctx, {
        narMiB: num("nar-mb", flags["nar-mb"], 1024),
        smallMiB: num("small-mb", flags["small-mb"], 100),
        zstdLevel: num("zstd-level", flags["zstd-level"], 19),
        lzipLevel: num("lzip-level", flags["lzip-level"], 6),
        dataDir: flags.data,
        prepareOnly: flags.prepare,
      }),
    );
  }
  const cmd = ["./dev bench substitute", ...Deno.args].join(" ");
  console.log(
    [
      `- Machine: ${await machine([
        "curl --version | cut -d' ' -f1,2",
        "zstd --version | grep -o 'v[0-9.]*' | sed 's/^/zstd /'",
        "lzip --version",
        "nix-store --version",
      ])}. Load average ${loadBefore} before, ${loadavg()} after ` +
      "(other engineers' jobs shared the 2 cores).",
      `- Command: \`${cmd}\` (repository ${ROOT.split("/").pop()}).`,
      "",
      ...report,
    ].join("\n"),
  );
} finally {
  await server.close();
  if (flags.keep) note(`kept ${work}`);
  else await forceRemove(work);
}
