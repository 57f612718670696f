/**
 * Flash crowd (issue 13 target): L leechers fetching one NAR from one seeder
 * at once, in simulation with the real block scheduler (./_flash_sim.ts).
 * Target: every leecher finishes within 3× a single fetch (one leecher alone,
 * simulated the same way, same run), and the seeder uploads at most 3× the
 * NAR. Runs the design variants side by side: how leechers pick their peers
 * (`first`: in the order the DHT lists providers; `random`) and seeder
 * upload slots.
 *
 * Usage: `./dev bench flash [--leechers 1000] [--size 300MB] [--mbit 100]
 * [--latency 50] [--seed 1] [--variants first,random,random+slots] [--json FILE]`
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import { loadavg } from "../measure.ts";
import { simulateFlash } from "./_flash_sim.ts";

const { flags } = parseFlags(Deno.args, {
  string: ["leechers", "size", "mbit", "latency", "seed", "variants", "json", "slots", "spread"],
});
const leechers = Number(flags.leechers ?? 1000);
const narSize = Number((flags.size ?? "300MB").replace(/MB$/, "")) * 1e6;
const bytesPerSecond = Number(flags.mbit ?? 100) * 1e6 / 8;
const latencyMs = Number(flags.latency ?? 50);
const seed = Number(flags.seed ?? 1);
const slots = Number(flags.slots ?? 8);
const spreadMs = Number(flags.spread ?? 0);
const variants = (flags.variants ?? "first,random,random+slots").split(",");
const base = { narSize, blockSize: 262144, bytesPerSecond, latencyMs, seed, spreadMs };

const loadBefore = loadavg();
const t0 = performance.now();
const single = simulateFlash({ ...base, leechers: 1 });
const rows: Record<string, unknown>[] = [];
console.error(`single fetch: ${(single.lastFinishMs / 1000).toFixed(1)} s`);
for (const v of variants) {
  const w0 = performance.now();
  const r = simulateFlash({
    ...base,
    leechers,
    pick: v.startsWith("random") ? "random" : "first",
    seederSlots: v.endsWith("+slots") ? slots : 0,
  });
  const row = {
    variant: v,
    completed: r.completed,
    medianS: +(r.finishMedianMs / 1000).toFixed(1),
    p95S: +(r.finishP95Ms / 1000).toFixed(1),
    lastS: +(r.lastFinishMs / 1000).toFixed(1),
    vsSingle: +(r.lastFinishMs / single.lastFinishMs).toFixed(2),
    seederUploadX: +(r.seederUpload / narSize).toFixed(2),
    leecherUploadMeanX: +(r.leecherUploadMean / narSize).toFixed(2),
    duplicatePct: +(100 * r.duplicateShare).toFixed(2),
    manifestMB: +(r.manifestBytes / 1e6).toFixed(0),
    events: r.events,
    wallS: +((performance.now() - w0) / 1000).toFixed(0),
  };
  rows.push(row);
  console.error(JSON.stringify(row));
}
const report = {
  leechers,
  narSize,
  mbit: bytesPerSecond * 8 / 1e6,
  latencyMs,
  seed,
  spreadMs,
  singleS: +(single.lastFinishMs / 1000).toFixed(2),
  variants: rows,
  loadBefore,
  loadAfter: loadavg(),
  wallS: +((performance.now() - t0) / 1000).toFixed(0),
};
console.log(JSON.stringify(report, null, 2));
if (flags.json) await Deno.writeTextFile(flags.json, JSON.stringify(report, null, 2));
