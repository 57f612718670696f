/**
 * Section 1 of the substitute-path benchmark: `have` of N paths through the
 * emulator, the helper and the daemon, cold and warm, against `curl`
 * fetching the same narinfos from the same server.
 *
 * @example
 * ```ts
 * import { haveSection } from "./_have.ts";
 * console.log((await haveSection(ctx, 1000)).join("\n"));
 * ```
 * @module
 */
import { ROOT } from "../../tests/support/daemon_proc.ts";
import { type BenchContext, DENO_FLAGS } from "./_context.ts";
import { narinfoCache } from "./_fixtures.ts";
import { fmtMs, note, procStats, Runs, timedShell } from "../measure.ts";

interface Run {
  wall: number;
  /** CPU seconds of the helper and of the daemon during the request. */
  helperCpu: number;
  daemonCpu: number;
}

/** Runs the section; returns its report lines. */
export async function haveSection(ctx: BenchContext, count: number): Promise<string[]> {
  note(`have: signing ${count + 1} narinfos ...`);
  const all = await narinfoCache({
    dir: ctx.cacheDir,
    storeDir: ctx.store,
    key: ctx.key.key,
    count: count + 1,
  });
  const extra = all.pop()!; // warms a helper up without touching the measured paths
  const paths = all;
  const expected = [...paths].sort();
  const urls = paths.map((p) =>
    `${ctx.serverUrl}/${p.slice(ctx.store.length + 1, ctx.store.length + 33)}.narinfo`
  );
  const curlConfig = `${ctx.work}/curl-narinfos.cfg`;
  await Deno.writeTextFile(
    curlConfig,
    urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(""),
  );

  const best = new Runs<Run>();
  const check = (reply: string[], what: string) => {
    if (reply.length !== expected.length || reply.some((p, i) => p !== expected[i])) {
      throw new Error(`${what}: have claimed ${reply.length} of ${expected.length} paths`);
    }
  };
  const measure = async (
    name: string,
    q: ReturnType<BenchContext["agent"]>,
    daemonPid: number,
    t0 = performance.now(),
  ) => {
    const h0 = procStats(q.child.pid).cpuWithChildren;
    const d0 = procStats(daemonPid).cpuWithChildren;
    const reply = await q.have(paths);
    const wall = (performance.now() - t0) / 1000;
    check(reply, name);
    const run = {
      wall,
      helperCpu: procStats(q.child.pid).cpuWithChildren - h0,
      daemonCpu: procStats(daemonPid).cpuWithChildren - d0,
    };
    note(
      `  ${name}: ${fmtMs(wall)} (helper cpu ${run.helperCpu.toFixed(2)} s, daemon cpu ${
        run.daemonCpu.toFixed(2)
      } s)`,
    );
    best.add(name, run);
  };

  for (let run = 0; run < ctx.runs; run++) {
    note(`have: run ${run + 1}/${ctx.runs}`);
    // Cold daemon, fresh helper: spawn → reply (what the very first `have` costs).
    {
      await using daemon = await ctx.daemon();
      const pid = daemon.child.pid;
      const t0 = performance.now();
      await using q = ctx.agent("--query", daemon.configPath);
      await measure("cold, fresh helper (spawn → reply)", q, pid, t0);
      await measure("warm, same helper (2nd request)", q, pid);
      // Steady state: the 3rd to 6th requests (JIT-compiled warm paths).
      for (let k = 0; k < 4; k++) await measure("warm, same helper (3rd–6th request)", q, pid);
      await using q2 = ctx.agent("--query", daemon.configPath);
      const t1 = performance.now();
      await measure("daemon warm, fresh helper (spawn → reply)", q2, pid, t1);
    }
    // Cold daemon, helper already running (started and warmed on another path).
    {
      const daemonCache = `${ctx.work}/have-cache-${run}`;
      {
        await using daemon = await ctx.daemon(daemonCache);
        await using q = ctx.agent("--query", daemon.configPath);
        if ((await q.have([extra])).length !== 1) throw new Error("warm-up have failed");
        await measure("cold daemon cache, helper running", q, daemon.child.pid);
        // The daemon writes its disk cache behind the replies: let it finish before the restart.
        await waitForFiles(`${daemonCache}/narinfo`, count + 1, 60_000);
      }
      // The same cache directory after a daemon restart: answers come from disk.
      await using daemon = await ctx.daemon(daemonCache);
      await using q = ctx.agent("--query", daemon.configPath);
      if ((await q.have([extra])).length !== 1) throw new Error("warm-up have failed");
      await measure("daemon restarted on its disk cache, helper running", q, daemon.child.pid);
    }
    // The emulator's own cost: a trivial Deno substituter claiming every path.
    {
      await using daemon = await ctx.daemon();
      const trivial = [Deno.execPath(), ...DENO_FLAGS, `${ROOT}/bench/substitute/trivial_child.ts`];
      const t0 = performance.now();
      await using q = ctx.agent("--query", daemon.configPath, trivial);
      await measure("floor: trivial Deno substituter (spawn → reply)", q, daemon.child.pid, t0);
      await measure("floor: trivial Deno substituter (2nd request)", q, daemon.child.pid);
    }
    for (
      const [name, script] of [
        [
          "curl, 16 parallel (baseline)",
          `curl -s --fail --parallel --parallel-max 16 -K ${curlConfig}`,
        ],
        ["curl, one connection, sequential", `curl -s --fail -K ${curlConfig}`],
      ] as const
    ) {
      const t = await timedShell(script);
      note(`  ${name}: ${fmtMs(t.wall)} (cpu ${t.cpu.toFixed(2)} s)`);
      best.add(name, { wall: t.wall, helperCpu: t.cpu, daemonCpu: 0 });
    }
  }

  const base = best.best("curl, 16 parallel (baseline)").wall;
  const row = (name: string, target = "") => {
    const r = best.best(name);
    const cpu = name.startsWith("curl")
      ? `${r.helperCpu.toFixed(2)} s (curl)`
      : `${r.helperCpu.toFixed(2)} s + ${r.daemonCpu.toFixed(2)} s`;
    return `| ${name} | ${fmtMs(r.wall)} | ${fmtMs(best.median(name))} | ${
      ((r.wall / count) * 1e6).toFixed(0)
    } µs | ${cpu} | ${(base / r.wall).toFixed(2)} | ${target} |`;
  };
  return [
    `### \`have\` of ${count} paths`,
    "",
    `Narinfos as \`guix publish\` writes them (5 references, a deriver, zstd and lzip entries,`,
    `signed with a fresh key in the ACL), served by \`tests/support/http_server.ts\` (\`Deno.serve\` on`,
    `127.0.0.1). Each row: best of ${ctx.runs} runs (median next to it), a fresh daemon and its own`,
    "cache directory per cold run. CPU = helper + daemon during the request (10 ms ticks).",
    '"Speed vs baseline" = baseline time / our time (> 1: faster than the baseline).',
    "",
    "| case | best | median | per path | CPU | speed vs baseline | target |",
    "| ---- | ---- | ------ | -------- | --- | ----------------- | ------ |",
    row("curl, 16 parallel (baseline)"),
    row("curl, one connection, sequential"),
    row("cold, fresh helper (spawn → reply)", "≤ 2 s"),
    row("cold daemon cache, helper running", "≤ 2 s"),
    row("daemon restarted on its disk cache, helper running"),
    row("daemon warm, fresh helper (spawn → reply)"),
    row("warm, same helper (2nd request)", "≤ 50 ms"),
    row("warm, same helper (3rd–6th request)"),
    row("floor: trivial Deno substituter (spawn → reply)"),
    row("floor: trivial Deno substituter (2nd request)"),
    "",
  ];
}

/** Waits (bounded) until `dir`'s subdirectories hold `n` cache files (temporary files not counted). */
async function waitForFiles(dir: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let count = 0;
  while (Date.now() < deadline) {
    count = 0;
    for await (const sub of Deno.readDir(dir)) {
      if (!sub.isDirectory) continue;
      for await (const e of Deno.readDir(`${dir}/${sub.name}`)) {
        if (!e.name.endsWith(".tmp")) count++;
      }
    }
    if (count >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${dir}: ${count} of ${n} cache files after ${timeoutMs} ms`);
}
