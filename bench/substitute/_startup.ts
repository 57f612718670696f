/**
 * Section 2 of the substitute-path benchmark: helper start-up, spawn (as the
 * emulator does it: `setsid sh -c 'exec "$@" 4>&1 1>&2' PROGRAM --query`) to
 * the first reply of a single-path `have` whose narinfo the daemon has
 * cached; against a `sh` script and a trivial Deno program answering on fd 4,
 * with a per-step breakdown from `bench/substitute/phases_child.ts`.
 *
 * @example
 * ```ts
 * import { startupSection } from "./_startup.ts";
 * console.log((await startupSection(ctx, 10)).join("\n"));
 * ```
 * @module
 */
import { ROOT } from "../../tests/support/daemon_proc.ts";
import { type BenchContext, DENO_FLAGS } from "./_context.ts";
import { narinfoCache } from "./_fixtures.ts";
import { fmtMs, note, Runs, sh } from "../measure.ts";

const TRIVIAL_SH = `#!/bin/sh
# Claims every path of each \`have\`, replies on fd 4.
while read -r command rest; do
  if [ "$command" = have ]; then
    for p in $rest; do echo "$p" >&4; done
    echo >&4
  fi
done
`;

const PHASES = [
  ["start", "process start → first line of the module (exec, V8, runtime)"],
  ["modules-helper", "loading the helper's modules (main, session, config, control)"],
  ["modules-query-trust", "loading query, signature and ACL modules"],
  ["config", "reading and validating config.toml, `_NIX_OPTIONS`"],
  ["fd4", "opening fd 4"],
  ["acl", "reading and parsing the ACL (no window table)"],
  ["socket", "connecting to the daemon socket"],
  ["request-read", "reading the request line from stdin"],
  ["lookup", "`lookup` round trip to the daemon (cached narinfo)"],
  ["verify", "signature check (first use: base-point table)"],
  ["reply", "writing the reply on fd 4"],
] as const;

/** Runs the section; returns its report lines. */
export async function startupSection(ctx: BenchContext, starts: number): Promise<string[]> {
  const [path] = await narinfoCache({
    dir: ctx.cacheDir,
    storeDir: ctx.store,
    key: ctx.key.key,
    count: 1,
  });
  const trivialSh = `${ctx.work}/trivial-substituter.sh`;
  await Deno.writeTextFile(trivialSh, TRIVIAL_SH);
  const bundle = `${ctx.work}/guix-p2p-substitute.js`;
  const deno = Deno.execPath();
  await sh(
    `cd ${ROOT} && '${deno}' bundle --quiet --platform deno -o ${bundle} bench/substitute/helper_child.ts`,
  );
  const asHelper = { GUIX_P2P_ARGV0: "guix-p2p-substitute" };
  const contenders: Record<string, { program?: string[]; env?: Record<string, string> }> = {
    "sh script answering on fd 4 (baseline)": { program: ["/bin/sh", trivialSh] },
    "trivial Deno program, same `deno run` flags": {
      program: [deno, ...DENO_FLAGS, `${ROOT}/bench/substitute/trivial_child.ts`],
    },
    "helper, `bin/guix-p2p-substitute` (as installed)": {},
    "helper, `deno run main.ts` (no sh launcher)": {
      program: [deno, ...DENO_FLAGS, `${ROOT}/main.ts`],
      env: asHelper,
    },
    "helper alone in one bundled file (`deno bundle`, 0.3 MB)": {
      program: [deno, ...DENO_FLAGS.filter((f) => f !== "--frozen"), bundle],
    },
    "step-by-step replica (`bench/substitute/phases_child.ts`)": {
      program: [deno, ...DENO_FLAGS, `${ROOT}/bench/substitute/phases_child.ts`],
    },
  };
  const names = Object.keys(contenders);
  const best = new Runs<{ wall: number }>();
  const phases: Record<string, number>[] = [];
  await using daemon = await ctx.daemon();
  {
    await using q = ctx.agent("--query", daemon.configPath);
    if ((await q.have([path!])).length !== 1) throw new Error("warm-up have failed");
  }
  note("startup:");
  for (let i = 0; i < starts + 1; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + i) % names.length]!;
      const c = contenders[name]!;
      const spawnEpoch = performance.timeOrigin + performance.now();
      const t0 = performance.now();
      await using q = ctx.agent("--query", daemon.configPath, c.program, c.env);
      const reply = await q.have([path!]);
      const wall = (performance.now() - t0) / 1000;
      if (reply.length !== 1 || reply[0] !== path) {
        throw new Error(`${name}: have replied ${JSON.stringify(reply)}`);
      }
      if (i === 0) continue; // warm-up round (page cache, code cache)
      best.add(name, { wall });
      if (name.startsWith("step-by-step")) {
        const line = await q.waitForLog(/^PHASES /, 5000);
        const marks = JSON.parse(line.slice("PHASES ".length)) as Record<string, number>;
        const rel: Record<string, number> = {};
        let prev = spawnEpoch;
        for (const [phase] of PHASES) {
          rel[phase] = (marks[phase]! - prev) / 1000;
          prev = marks[phase]!;
        }
        rel.total = (prev - spawnEpoch) / 1000;
        phases.push(rel);
      }
      note(`  ${name}: ${fmtMs(wall)}`);
    }
  }
  // Costs of the first signature check that sit outside the helper's code.
  const pieces: Record<string, number>[] = [];
  for (let i = 0; i < starts; i++) {
    pieces.push(
      JSON.parse(
        await sh(`'${deno}' ${DENO_FLAGS.join(" ")} ${ROOT}/bench/substitute/first_check_child.ts`),
      ),
    );
  }
  const base = best.best(names[0]!).wall;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return [
    "### Helper start-up: spawn → first reply",
    "",
    "A single-path `have` whose narinfo the daemon has cached, spawned exactly as guix-daemon",
    "spawns a substituter (`setsid`, `sh -c 'exec \"$@\" 4>&1 1>&2'`, `_NIX_OPTIONS`, replies read",
    `from fd 4). Best and median of ${starts} interleaved starts after a warm-up round.`,
    "",
    "| program | best | median | vs sh baseline |",
    "| ------- | ---- | ------ | -------------- |",
    ...names.map((n) =>
      `| ${n} | ${fmtMs(best.best(n).wall)} | ${fmtMs(best.median(n))} | +${
        fmtMs(best.best(n).wall - base)
      } |`
    ),
    "",
    `Breakdown (step-by-step replica, median over ${phases.length} starts; the real helper overlaps`,
    "the ACL load with the daemon round trip):",
    "",
    "| step | median |",
    "| ---- | ------ |",
    ...PHASES.map(([phase, what]) =>
      `| ${what} | ${fmtMs(median(phases.map((p) => p[phase]!)))} |`
    ),
    `| total (spawn → reply written) | ${fmtMs(median(phases.map((p) => p.total!)))} |`,
    "",
    `Parts of the first signature check that are not the helper's code (\`bench/substitute/first_check_child.ts\`,`,
    `a fresh process each, median of ${pieces.length}):`,
    "",
    "| piece | median |",
    "| ----- | ------ |",
    ...[
      [
        "nodeCryptoFirstHash",
        "loading Deno's `node:crypto` polyfill and one SHA-256 (src/hash, src/trust)",
      ],
      ["importNoble", "loading `@noble/curves` ed25519"],
      ["firstMulNoTable", "first base-point multiplication, no window table"],
      [
        "firstMulW8Table",
        "first base-point multiplication building the W=8 table (src/trust/ecdsa.ts)",
      ],
      ["laterMulW8Table", "later multiplications with the table"],
    ].map(([k, what]) => `| ${what} | ${fmtMs(median(pieces.map((p) => p[k!]!)) / 1000)} |`),
    "",
  ];
}
