/**
 * Nix gateway benchmark: `nix copy --from <gateway>` of a ~1 GiB store path
 * whose NAR comes from ONE seeder daemon over the P2P swarm (the gateway's
 * upstream serves narinfos, not NARs), next to `nix copy --from` a plain HTTP
 * server holding the same signed cache uncompressed (the baseline) and
 * zstd-compressed, measured in the same run: best of N, contenders
 * interleaved, a fresh client store and XDG cache for every copy, a fresh
 * gateway daemon (empty caches, default settings) for every cold copy, and a
 * fresh DHT for every P2P copy (a gateway seeds what it fetched from peers,
 * so stopped gateways would stay in the DHT as providers; checked: every
 * block comes from the seeder).
 *
 * Also measured: a second copy from the same gateway (NAR in its block
 * cache), a gateway fetching from the upstream over HTTP (`policy =
 * "http-only"`, zstd NAR); the bytes that crossed the P2P connection (block
 * payloads as counted by `guix-p2p peers --json` on both ends, and the
 * kernel's TCP byte counter) against the zstd and xz caches' NAR files; the
 * gateway daemon's peak RSS (VmHWM) and CPU time during the copy.
 *
 * The item is built with nix-build in the real /nix/store (real files from
 * /usr plus a share of random bytes) and deleted at the end with
 * `nix-store --delete`, like every temporary file (unless `--keep`).
 *
 * Usage: `./dev bench gateway [--mb 1024] [--random 0.2] [--runs 3]
 * [--only http-none,http-zstd,gw-p2p,gw-http[,curl-p2p]] [--no-xz] [--nix-xz]
 * [--dir /tmp] [--keep] [--profile]`. `--no-xz` skips `xz -6 -T2` over the NAR (its size
 * is reported as the xz cache's); `--nix-xz` builds a real Nix xz cache
 * (single-threaded: ~100 s per 250 MB) and measures `nix copy` from it too.
 * `curl-p2p` (not run by default) is `curl` of the NAR from a cold P2P
 * gateway, without Nix: time to first byte and to the end.
 * `--profile` writes CPU profiles of the seeder and of the first cold P2P
 * gateways (`gw-p2p-1`, `gw-curl-1`; `deno --cpu-prof`) into `bench/out/gateway-profiles/` and
 * summarises them on stderr. The report
 * (markdown) goes to stdout, progress to stderr.
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import { ROOT } from "../../tests/support/daemon_proc.ts";
import { type FileServer, startFileServer } from "../../tests/support/http_server.ts";
import { nix, nixEnv } from "../../tests/support/nix.ts";
import { forceRemove } from "../../tests/support/tree_check.ts";
import {
  buildItem,
  type Cache,
  type Item,
  makeCache,
  narFile,
  removeItem,
  xzSize,
} from "./_fixture.ts";
import {
  loadavg,
  mb,
  mib,
  note,
  procStats,
  Runs,
  sh,
  threadCpu,
  threadCpuDelta,
} from "../measure.ts";
import { machine } from "../measure.ts";
import { profilingDeno, summarizeProfiles } from "../_cpu_profile.ts";
import {
  BenchSwarm,
  type GatewayNode,
  type PeerReport,
  peerTraffic,
  startGateway,
  TcpMeter,
} from "./_swarm.ts";

const { flags } = parseFlags(Deno.args, {
  string: ["mb", "random", "runs", "only", "dir", "verify-first"],
  boolean: ["keep", "no-xz", "nix-xz", "profile"],
  positionals: false,
});
const num = (name: string, value: string | undefined, fallback: number, max = Infinity) => {
  const n = Number(value ?? fallback);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    throw new Error(`--${name}: expected a number in (0, ${max}], got "${value}"`);
  }
  return n;
};
const MB = num("mb", flags.mb, 1024);
const RANDOM = num("random", flags.random, 0.2, 1);
const RUNS = Math.round(num("runs", flags.runs, 3));
const CONTENDERS = ["http-none", "http-zstd", "gw-p2p", "gw-http", "curl-p2p"] as const;
/** Contenders run unless `--only` says otherwise. */
const DEFAULT_CONTENDERS = ["http-none", "http-zstd", "gw-p2p", "gw-http"];
type Contender =
  | (typeof CONTENDERS)[number]
  | "gw-p2p-warm"
  | "http-xz"
  | "curl-none"
  | "curl-gw";
const only = new Set((flags.only ?? DEFAULT_CONTENDERS.join(",")).split(","));
for (const c of only) {
  if (!(CONTENDERS as readonly string[]).includes(c)) {
    throw new Error(`--only: unknown contender "${c}" (known: ${CONTENDERS.join(", ")})`);
  }
}

/** One measured copy. */
interface Copy {
  wall: number;
  /** Seconds until the item appeared in the client store (Nix's first NAR bytes), ±20 ms. */
  firstByte: number;
  /** CPU seconds of the nix client. */
  nixCpu: number;
  /** Peak RSS of the nix client, KiB. */
  nixRssKiB: number;
  /** Gateway daemon: CPU seconds during the copy, RSS before it and peak RSS since start (KiB). */
  gwCpu?: number;
  gwRssBeforeKiB?: number;
  gwHwmKiB?: number;
  /** Largest sampled gateway RSS (KiB) before and after Nix's first byte. */
  gwRssBeforeFirstByteKiB?: number;
  gwRssAfterFirstByteKiB?: number;
  /** Gateway CPU per thread group during the copy. */
  gwThreads?: string;
  /** Seeder daemon CPU seconds during the copy, and per thread group. */
  seederCpu?: number;
  seederThreads?: string;
  /** The gateway's "fetched …" log line. */
  fetched?: string;
  providers?: string;
}

const work = await Deno.makeTempDir({
  prefix: "guix-p2p-bench-gw-",
  ...(flags.dir ? { dir: flags.dir } : {}),
});
note(
  `work directory ${work}; ${await sh(
    `df -h --output=avail ${work} /nix | tail -n +2 | tr '\\n' ' '`,
  )} free (work, /nix)`,
);
const loadBefore = loadavg();
const started = performance.now();
const cleanup: (() => Promise<unknown>)[] = [];
const profileDir = `${ROOT}/bench/out/gateway-profiles/${new Date().toISOString().slice(0, 19)}`;
let item: Item | undefined;
let copies = 0;

/** `nix copy --from URL --to <fresh chroot store>` under /usr/bin/time; checks the path is valid. */
async function copyFrom(url: string): Promise<Copy> {
  const n = copies++;
  const store = `${work}/client-${n}`;
  const xdg = `${work}/xdg-client-${n}`;
  const t0 = performance.now();
  // Nix restores the NAR straight into <store>/nix/store/<name> while it downloads:
  // its appearance is the first byte Nix received.
  let firstByte = NaN;
  const poll = setInterval(() => {
    if (!Number.isNaN(firstByte)) return;
    try {
      Deno.lstatSync(`${store}${item!.storePath}`);
      firstByte = (performance.now() - t0) / 1000;
    } catch {
      // not yet
    }
  }, 20);
  const out = await new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "TIME %U %S %M",
      "nix",
      "copy",
      "--from",
      url,
      "--to",
      store,
      item!.storePath,
      "--option",
      "trusted-public-keys",
      item!.publicKey,
    ],
    env: nixEnv(xdg),
    stdout: "null",
    stderr: "piped",
  }).output().finally(() => clearInterval(poll));
  const wall = (performance.now() - t0) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`nix copy --from ${url} failed (${out.code}):\n${stderr}`);
  const [user, sys, rss] = /^TIME (\S+) (\S+) (\d+)$/m.exec(stderr)!.slice(1).map(Number);
  const valid = await nix(["nix", "path-info", "--store", store, item!.storePath], { xdg });
  if (valid.code !== 0) {
    throw new Error(`${item!.storePath} not valid in ${store}: ${valid.stderr}`);
  }
  await forceRemove(store);
  await forceRemove(xdg);
  return { wall, firstByte, nixCpu: user! + sys!, nixRssKiB: rss! };
}

/**
 * `curl` of the item's NAR as the narinfo at `base` names it, into `wc -c`
 * (no Nix): seconds to the first body byte and to the end.
 */
async function curlNar(base: string): Promise<Copy> {
  const narinfo = await (await fetch(`${base}/${item!.storePath.slice(11, 43)}.narinfo`)).text();
  const url = /^URL: (\S+)$/m.exec(narinfo)?.[1];
  if (!url) throw new Error(`${base}: narinfo without URL:\n${narinfo}`);
  const out = await sh(
    `s=$(date +%s%N); curl -sSf '${base}/${url}' | { head -c 1 > /dev/null; f=$(date +%s%N); ` +
      `n=$(wc -c); e=$(date +%s%N); echo $(( (f - s) / 1000 )) $(( (e - s) / 1000 )) $((n + 1)); }`,
  );
  const [first, total, bytes] = out.split(" ").map(Number);
  if (bytes !== item!.narSize) {
    throw new Error(`curl ${base}/${url}: ${bytes} bytes, NarSize is ${item!.narSize}`);
  }
  return { wall: total! / 1e6, firstByte: first! / 1e6, nixCpu: NaN, nixRssKiB: NaN };
}

/** Copies from a gateway, with the gateway's (and seeder's) CPU time and peak RSS. */
async function copyFromGateway(gw: GatewayNode, seederPid?: number): Promise<Copy> {
  const before = procStats(gw.pid);
  const threadsBefore = threadCpu(gw.pid);
  const seederThreadsBefore = seederPid ? threadCpu(seederPid) : {};
  const logStart = gw.daemon.log.length;
  const seederBefore = seederPid ? procStats(seederPid) : undefined;
  // RSS every 100 ms, to tell the download (before Nix's first byte) from the serving.
  const t0 = performance.now();
  const rss: [number, number][] = [];
  const sampler = setInterval(() => {
    try {
      rss.push([(performance.now() - t0) / 1000, procStats(gw.pid).rssKiB]);
    } catch {
      // the daemon exited; the copy fails below
    }
  }, 100);
  let copy: Copy;
  try {
    copy = await copyFrom(gw.url);
  } catch (e) {
    note(`${gw.name} failed; the end of its log:\n${gw.daemon.log.slice(-40).join("\n")}`);
    throw e;
  } finally {
    clearInterval(sampler);
  }
  const peakOf = (list: [number, number][]) => Math.max(0, ...list.map(([, kib]) => kib));
  copy.gwRssBeforeFirstByteKiB = peakOf(rss.filter(([t]) => t < copy.firstByte));
  copy.gwRssAfterFirstByteKiB = peakOf(rss.filter(([t]) => t >= copy.firstByte));
  const after = procStats(gw.pid);
  copy.gwCpu = after.cpu - before.cpu;
  copy.gwRssBeforeKiB = before.rssKiB;
  copy.gwThreads = threadCpuDelta(threadsBefore, threadCpu(gw.pid));
  if (seederPid) copy.seederThreads = threadCpuDelta(seederThreadsBefore, threadCpu(seederPid));
  copy.gwHwmKiB = after.hwmKiB;
  if (seederPid) copy.seederCpu = procStats(seederPid).cpu - seederBefore!.cpu;
  const lines = gw.daemon.log.slice(logStart);
  const fetched = lines.find((l) => /fetched \/nix\/store/.test(l));
  if (fetched) copy.fetched = fetched.replace(/^.*?fetched \S+: /, "").replace(/ p2p:\/\/\S+/, "");
  const providers = lines.find((l) => /provider\(s\) for/.test(l));
  if (providers) copy.providers = providers.replace(/^.*?info: /, "");
  return copy;
}

const runs = new Runs<Copy>();
const wire: { blocksBytes: number; seederUp: number; tcp: number; blocks: number }[] = [];
const report: string[] = [];
try {
  // --- The item and its caches.
  note(`building a ~${MB} MB store path (${RANDOM * 100} % random bytes) with nix-build`);
  item = await buildItem(work, { mb: MB, randomShare: RANDOM });
  const builtItem = item;
  if (!flags.keep) cleanup.push(() => removeItem(builtItem));
  note(`built ${item.storePath}: NAR ${item.narSize} bytes, ${item.files} files from /usr`);
  const caches: Record<string, Cache> = {};
  const compressions = ["none", "zstd", ...(flags["nix-xz"] ? ["xz"] : [])];
  for (const compression of compressions) {
    note(`nix copy --to file://…?compression=${compression}`);
    caches[compression] = await makeCache(item, `${work}/cache-${compression}`, compression);
  }
  const nar = await narFile(item, caches.none!);
  let xz: { bytes: number; seconds: number } | undefined;
  if (!flags["no-xz"]) {
    note("xz -6 -T2 over the NAR (size of an xz cache)");
    xz = await xzSize(nar);
  }

  // --- Servers and daemons.
  const servers: FileServer[] = [];
  const serve = async (root: string, nars = true) => {
    const s = await startFileServer({ root });
    if (!nars) s.faults.push({ match: /\/nar\//, action: "status", status: 404 });
    servers.push(s);
    return s;
  };
  cleanup.push(() => Promise.all(servers.map((s) => s.close())));
  const plainNone = await serve(caches.none!.dir);
  const plainZstd = await serve(caches.zstd!.dir);
  const plainXz = caches.xz ? await serve(caches.xz.dir) : undefined;
  const narinfosOnly = await serve(caches.zstd!.dir, false);
  if (flags.profile) {
    Deno.env.set(
      "GUIX_P2P_DENO",
      await profilingDeno(profileDir, ["/seeder-1/", "/gw-p2p-1/", "/gw-curl-1/"]),
    );
  }
  note("starting the bootstrap node and the seeder (indexing the item)");
  const swarm = new BenchSwarm(work, item.storePath);
  cleanup.push(() => swarm.stop());
  const t0 = performance.now();
  await swarm.fresh();
  const seedSeconds = (performance.now() - t0) / 1000;
  let swarmIsFresh = true;
  /** A DHT where the seeder is the only provider (earlier gateways announced the item too). */
  const freshSwarm = async () => {
    if (!swarmIsFresh) await swarm.fresh();
    swarmIsFresh = false;
  };
  const trusted = { nix_trusted_public_keys: [item.publicKey] };

  // --- Interleaved runs; the starting contender rotates from run to run.
  const order: Contender[] = [
    ...(only.has("http-none") ? ["http-none" as const] : []),
    ...(only.has("gw-p2p") ? ["gw-p2p" as const] : []),
    ...(only.has("http-zstd") ? ["http-zstd" as const] : []),
    ...(only.has("gw-http") ? ["gw-http" as const] : []),
    ...(only.has("curl-p2p") ? ["curl-p2p" as const] : []),
    ...(plainXz ? ["http-xz" as const] : []),
  ];
  const gateways = { http: 0, p2p: 0, curl: 0 };
  for (let run = 0; run < RUNS; run++) {
    const rotated = [...order.slice(run % order.length), ...order.slice(0, run % order.length)];
    for (const contender of rotated) {
      note(`run ${run + 1}/${RUNS}: ${contender} (load ${loadavg()})`);
      if (contender === "http-none") {
        runs.add(contender, await copyFrom(plainNone.url));
        runs.add("curl-none", await curlNar(plainNone.url));
      } else if (contender === "http-zstd") runs.add(contender, await copyFrom(plainZstd.url));
      else if (contender === "http-xz") runs.add(contender, await copyFrom(plainXz!.url));
      else if (contender === "curl-p2p") {
        await freshSwarm();
        const gw = await startGateway(work, `gw-curl-${++gateways.curl}`, swarm.boot.address, {
          ...trusted,
          nix_upstream_urls: [narinfosOnly.url],
          policy: "p2p-first",
        });
        try {
          runs.add(contender, await curlNar(gw.url));
        } finally {
          await gw.daemon.stop();
          await forceRemove(gw.dir);
        }
      } else if (contender === "gw-http") {
        const gw = await startGateway(work, `gw-http-${++gateways.http}`, swarm.boot.address, {
          ...trusted,
          nix_upstream_urls: [plainZstd.url],
          policy: "http-only",
        });
        try {
          runs.add(contender, await copyFromGateway(gw));
        } finally {
          await gw.daemon.stop();
          await forceRemove(gw.dir);
        }
      } else {
        await freshSwarm();
        const { seeder } = swarm;
        const seederPid = seeder.daemon.child.pid;
        const gw = await startGateway(work, `gw-p2p-${++gateways.p2p}`, swarm.boot.address, {
          ...trusted,
          nix_upstream_urls: [narinfosOnly.url],
          policy: "p2p-first",
          // --verify-first never: stream a single seeder's NAR at once (see docs/gateway.md).
          ...(flags["verify-first"] ? { gateway_verify_first: flags["verify-first"] } : {}),
        });
        try {
          const meter = new TcpMeter(gw.pid, seederPid);
          runs.add("gw-p2p", await copyFromGateway(gw, seederPid));
          const tcp = await meter.stop();
          const down = await peerTraffic(gw, seeder.peerId);
          const up = await peerTraffic(seeder, gw.peerId);
          const others = (await gw.json<PeerReport[]>(["peers"]))
            .filter((p) => p.peerId !== seeder.peerId && p.bytesDown > 0);
          if (others.length > 0) {
            throw new Error(`not one seeder: blocks also came from ${JSON.stringify(others)}`);
          }
          wire.push({
            blocksBytes: down.bytesDown,
            seederUp: up.bytesUp,
            tcp,
            blocks: down.blocksDown,
          });
          note(`run ${run + 1}/${RUNS}: gw-p2p-warm (same gateway, NAR in its block cache)`);
          runs.add("gw-p2p-warm", await copyFromGateway(gw));
          runs.add("curl-gw", await curlNar(gw.url));
        } finally {
          await gw.daemon.stop();
          await forceRemove(gw.dir);
        }
      }
    }
  }
  if (narinfosOnly.log.some((l) => l.path.includes("/nar/") && l.status === 200)) {
    throw new Error("the P2P gateway fetched a NAR from its upstream: not a P2P measurement");
  }

  // --- Report.
  const size = item.narSize;
  const base = runs.all.has("http-none") ? runs.best("http-none").wall : NaN;
  const label: Record<Contender, string> = {
    "http-none": "`nix copy --from` plain HTTP, `compression=none` cache (baseline)",
    "http-zstd": "`nix copy --from` plain HTTP, `compression=zstd` cache",
    "http-xz": "`nix copy --from` plain HTTP, `compression=xz` cache",
    "gw-p2p": "`nix copy --from` gateway, NAR from 1 seeder over P2P (cold gateway)",
    "gw-p2p-warm": "… same gateway again (NAR in its block cache)",
    "gw-http": "`nix copy --from` gateway, `http-only`, zstd NAR from upstream",
    "curl-none": "`curl` of the NAR from the plain HTTP server (no Nix)",
    "curl-gw": "`curl` of the NAR from the warm gateway (no Nix)",
    "curl-p2p": "`curl` of the NAR from a cold gateway, 1 seeder over P2P (no Nix)",
  };
  report.push(
    `- Machine: ${await machine([
      "nix-store --version",
      "zstd --version | grep -o 'v[0-9.]*' | sed 's/^/zstd /'",
      "xz --version",
    ])}.`,
    `- Load average ${loadBefore} before, ${loadavg()} after (the 2 cores were shared with other ` +
      `engineers' jobs); ${((performance.now() - started) / 60_000).toFixed(1)} min in all.`,
    `- Command: \`${["./dev bench gateway", ...Deno.args].join(" ")}\` in ${ROOT} ` +
      `(${await sh(`git -C ${ROOT} rev-parse --short HEAD`).catch(() => "not a git checkout")}${
        (await sh(`git -C ${ROOT} status --porcelain -- src`).catch(() => ""))
          ? ", src/ modified"
          : ""
      }).`,
    `- Item: ${item.storePath.slice(44)}: NAR ${size.toLocaleString("en")} bytes, ` +
      `${item.files.toLocaleString("en")} files copied from /usr (${mb(item.realBytes)} MB) + ` +
      `${mb(item.randomBytes)} MB random in 4 files. Seeder indexed and announced it in ` +
      `${seedSeconds.toFixed(1)} s.`,
    "",
    "| contender | best wall | runs (s) | first byte | NAR MB/s | speed vs baseline | nix CPU | gateway CPU | gateway RSS before → peak |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (
    const name of [
      "http-none",
      "gw-p2p",
      "gw-p2p-warm",
      "gw-http",
      "http-zstd",
      "http-xz",
      "curl-none",
      "curl-gw",
      "curl-p2p",
    ] as const
  ) {
    if (!runs.all.has(name)) continue;
    const b = runs.best(name);
    if (name.startsWith("curl-")) {
      report.push(
        `| ${label[name]} | ${b.wall.toFixed(2)} s | ${runs.walls(name)} | ${
          b.firstByte.toFixed(2)
        } s | ${(size / 1e6 / b.wall).toFixed(0)} | ${(base / b.wall).toFixed(2)}× | — | — | — |`,
      );
      continue;
    }
    report.push(
      `| ${label[name]} | ${b.wall.toFixed(2)} s | ${runs.walls(name)} | ${
        b.firstByte.toFixed(2)
      } s | ${(size / 1e6 / b.wall).toFixed(0)} | ${
        name === "http-none" ? "**1.00×**" : `**${(base / b.wall).toFixed(2)}×**`
      } | ${b.nixCpu.toFixed(2)} s | ${b.gwCpu !== undefined ? `${b.gwCpu.toFixed(2)} s` : "—"} | ${
        b.gwHwmKiB !== undefined ? `${mib(b.gwRssBeforeKiB!)} → ${mib(b.gwHwmKiB)} MiB` : "—"
      } |`,
    );
  }
  report.push("");
  for (const name of ["gw-p2p", "gw-p2p-warm", "gw-http"] as const) {
    for (const [i, r] of (runs.all.get(name) ?? []).entries()) {
      report.push(
        `- ${name} run ${i + 1}: ${r.wall.toFixed(2)} s, first byte after ${
          r.firstByte.toFixed(2)
        } s${
          name === "gw-p2p"
            ? ` (${(size / 1e6 / r.firstByte).toFixed(0)} MB/s of NAR before it)`
            : ""
        }; gateway log: ${r.fetched ? `fetched ${r.fetched}` : "no fetch (served from cache)"}` +
          `${r.providers ? `; ${r.providers}` : ""}; gateway CPU ${r.gwCpu?.toFixed(2)} s ` +
          `(${r.gwThreads})${
            r.seederCpu !== undefined
              ? `, seeder CPU ${r.seederCpu.toFixed(2)} s (${r.seederThreads})`
              : ""
          }; ` +
          `RSS ${mib(r.gwRssBeforeKiB ?? 0)} MiB before the copy, ${
            r.gwRssBeforeFirstByteKiB
              ? `sampled peaks ${mib(r.gwRssBeforeFirstByteKiB)} MiB before Nix's first byte and `
              : "sampled peak "
          }${mib(r.gwRssAfterFirstByteKiB ?? 0)} MiB after it, VmHWM ${mib(r.gwHwmKiB ?? 0)} MiB`,
      );
    }
  }
  if (wire.length > 0) {
    const w = wire[0]!;
    const zstd = caches.zstd!.fileSize;
    const rel = (bytes: number) =>
      `${mb(bytes)} MB | ${(bytes / size).toFixed(3)} | ${(bytes / zstd).toFixed(2)} | ${
        xz ? (bytes / xz.bytes).toFixed(2) : "—"
      }`;
    report.push(
      "",
      "| bytes for the item | MB | / NAR | / zstd cache | / xz |",
      "| --- | --- | --- | --- | --- |",
      `| NAR (uncompressed; the none cache, and what the gateway sends to Nix) | ${rel(size)} |`,
      `| P2P block payloads, gateway's \`bytesDown\` from the seeder (${w.blocks} blocks) | ${
        rel(w.blocksBytes)
      } |`,
      `| P2P block payloads, seeder's \`bytesUp\` to the gateway | ${rel(w.seederUp)} |`,
      `| TCP bytes the gateway received from the seeder (Noise, yamux, frames, DHT) | ${
        rel(w.tcp)
      } |`,
      `| \`compression=zstd\` cache NAR file (upload ${
        caches.zstd!.uploadSeconds.toFixed(1)
      } s) | ${rel(zstd)} |`,
      ...(caches.xz
        ? [
          `| \`compression=xz\` cache NAR file (upload ${caches.xz.uploadSeconds.toFixed(1)} s) | ${
            rel(caches.xz.fileSize)
          } |`,
        ]
        : []),
      ...(xz
        ? [`| \`xz -6 -T2\` of the NAR (${xz.seconds.toFixed(1)} s) | ${rel(xz.bytes)} |`]
        : []),
      "",
      `Wire bytes of every cold gateway run (block payloads / TCP): ${
        wire.map((x) => `${mb(x.blocksBytes)} / ${mb(x.tcp)} MB`).join(", ")
      }.`,
    );
  }
  console.log(report.join("\n"));
} finally {
  for (const f of cleanup.reverse()) {
    await f().catch((e) => note(`cleanup: ${(e as Error).message}`));
  }
  if (flags.profile) {
    for (const line of await summarizeProfiles(profileDir).catch(() => [])) note(line);
    note(`profiles kept in ${profileDir}`);
  }
  if (flags.keep) note(`kept ${work}`);
  else await forceRemove(work);
}
