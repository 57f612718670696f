/**
 * The leecher's block-cache work for a Guix-like closure, CPU-timed (all
 * threads of the process: `process.cpuUsage`), without the network: 150
 * entries in the closure benchmark's size mix — 112 small and 30 medium NARs
 * stored whole as a fetched small NAR is (`whole.ts`), 8 of 10–40 MB written
 * block by block as a swarm download writes them and checked against their
 * NarHash at the end — then the cache closed. CPU seconds do not depend on
 * the machine's load the way a closure's wall time does, so two trees can be
 * compared on a busy machine: `--tree DIR` imports the cache of another
 * checkout (e.g. main's) with the same workload.
 *
 * Usage: `./dev bench p2p/block_cache [--runs 3] [--tree DIR]`
 *
 * @module
 */
import process from "node:process";
import { parseFlags } from "../../src/std/cli.ts";
import { loadAverage, median } from "../measure.ts";

const { flags } = parseFlags(Deno.args, { string: ["runs", "tree"] });
const runs = Number(flags.runs ?? "3");
const tree = new URL(
  flags.tree ? `file://${Deno.realPathSync(flags.tree)}/` : "../../",
  import.meta.url,
);
const at = (path: string) => new URL(path, tree).href;

const { BlockCache } = await import(at("src/p2p/store/deno_block_cache.ts"));
const { sha256 } = await import(at("src/hash/sha256.ts"));
const { hexEncode } = await import(at("src/encoding/hex.ts"));
const { checkEntry } = await import(at("src/p2p/store/check_entry.ts"));
// Trees with the incremental whole-NAR hash of swarm downloads use it, as their downloads do.
const prefixHash = await import(at("src/p2p/download/_prefix_hash.ts")).catch(() => undefined);

const BLOCK = 262144;
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const sizes = [
  ...Array.from({ length: 112 }, () => 2000 + Math.floor(rnd() * 198_000)),
  ...Array.from({ length: 30 }, () => 300_000 + Math.floor(rnd() * 3_700_000)),
  ...Array.from({ length: 8 }, () => 10_000_000 + Math.floor(rnd() * 30_000_000)),
];
const pool = new Uint8Array(41_000_000);
for (let i = 0; i < pool.length; i += 65536) {
  crypto.getRandomValues(pool.subarray(i, Math.min(pool.length, i + 65536)));
}

async function once(): Promise<{ cpu: number; wall: number }> {
  const dir = await Deno.makeTempDir({ prefix: "bench-block-cache-" });
  try {
    const cache = new BlockCache(dir, { maxBytes: 2 ** 40 });
    await cache.load();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const [k, size] of sizes.entries()) {
      const nar = pool.subarray(k, k + size);
      const count = Math.ceil(size / BLOCK);
      const narHash = sha256(nar);
      const entry = await cache.open({
        narHash,
        narSize: size,
        blockSize: BLOCK,
        hashes: new Uint8Array(count * 32),
      });
      const block = (i: number) => nar.subarray(i * BLOCK, Math.min(size, (i + 1) * BLOCK));
      if (size <= 4 * 1024 * 1024) {
        if (entry.writeBlocks) await entry.writeBlocks(0, nar);
        else for (let i = 0; i < count; i++) await entry.writeBlock(i, block(i));
      } else {
        const hash = prefixHash ? new prefixHash.PrefixHash(entry) : undefined;
        const writes = [];
        for (let i = 0; i < count; i++) {
          writes.push(entry.writeBlock(i, block(i)).then(() => hash?.written(i, block(i))));
        }
        await Promise.all(writes);
        const good = hash ? hexEncode(await hash.digest()) === entry.hex : await checkEntry(entry);
        if (!good) throw new Error(`entry ${k} does not hash to its NarHash`);
      }
      await entry.markVerified(`/gnu/store/item-${k}`);
    }
    await cache.close();
    const c = process.cpuUsage(c0);
    return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1000 };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const load = loadAverage();
const results = [];
for (let r = 0; r < runs; r++) results.push(await once());
const mb = sizes.reduce((a, b) => a + b, 0) / 1e6;
console.log(
  `block cache, ${sizes.length} entries, ${mb.toFixed(0)} MB (${tree.pathname}): ` +
    `CPU ${median(results.map((x) => x.cpu)).toFixed(2)} s median ` +
    `(${results.map((x) => x.cpu.toFixed(2)).join(", ")}), wall ${
      median(results.map((x) => x.wall)).toFixed(2)
    } s; load ${load.toFixed(1)}`,
);
