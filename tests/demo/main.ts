/**
 * `./dev demo`: the main job of guix-p2p, end to end, on this machine.
 *
 * 1. A substitute server (HTTP) with an item signed by a Guix key; it serves
 *    the narinfo but refuses the NAR, so the bytes must come from peers.
 * 2. Four guix-p2p daemons on 127.0.0.1 that know only a bootstrap address.
 * 3. Two of them seed the item (read from their stores, never copied) and
 *    announce it in the Kademlia DHT.
 * 4. A guix-daemon emulator asks the fourth one's substitute helper for the
 *    item: `have`, then `substitute` — the NAR arrives as verified blocks from
 *    both seeders, is restored, checked against the signed NarHash, and moved
 *    into the store.
 * 5. The leecher's `status` and `peers` show where the bytes came from.
 *
 * @module
 */
import { helperAgent } from "../support/daemon_proc.ts";
import { p2pWorld } from "../support/p2p_world.ts";
import { randomBytes } from "../support/random.ts";
import { startSwarm, waitForDht } from "../support/swarm.ts";
import { assertRestored } from "../support/tree_check.ts";

const say = (text: string) => console.log(`\n== ${text}`);
let ok = false;
{
  await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-demo-" }));
  const { root, server } = world;
  const leecherStore = `${root}/n3/store`;
  say("making a store item and a signed substitute server (narinfo only, no NAR)");
  const src = `${root}/hello`;
  await Deno.mkdir(`${src}/bin`, { recursive: true });
  await Deno.writeTextFile(`${src}/bin/hello`, "#!/bin/sh\necho Hello from the swarm\n");
  await Deno.chmod(`${src}/bin/hello`, 0o755);
  await Deno.writeFile(`${src}/bin/data`, randomBytes(4 * 1024 * 1024));
  const item = await world.item(src, "hello-2.12.2", leecherStore, { compressions: ["zstd"] });
  console.log(
    `item ${item.storePath}\n  ${item.narHash}, ${item.narSize} bytes; server ${server.url}`,
  );

  say("starting 4 daemons on 127.0.0.1 (n0 is the bootstrap node)");
  await using swarm = await startSwarm(
    root,
    4,
    (i) => i === 3 ? world.leecherSettings(leecherStore) : {},
  );
  for (const n of swarm) console.log(`${n.name}: ${n.peerId}`);
  const [, s1, s2, leecher] = swarm;

  say("n1 and n2 seed the item");
  for (const seeder of [s1!, s2!]) {
    const path = `${seeder.store}/${item.baseName}`;
    await new Deno.Command("cp", { args: ["-a", src, path] }).output();
    const r = await seeder.cli(["seed", path]);
    console.log(`${seeder.name}$ guix-p2p seed ${path}\n${r.stdout.trim()}`);
    await seeder.daemon.waitForLog(/announced /, 30_000);
  }
  await waitForDht(leecher!, 2);

  say("guix-daemon (emulated) asks n3's substitute helper");
  await using q = helperAgent("query", leecher!.daemon, leecherStore);
  console.log(`have → ${JSON.stringify(await q.have([item.storePath]))}`);
  await using s = helperAgent("substitute", leecher!.daemon, leecherStore, {
    "untrusted-print-extended-build-trace": "1",
  });
  const t0 = performance.now();
  const out = await s.substitute(item.storePath, item.storePath, 120_000);
  console.log(s.log.filter((l) => l.startsWith("@")).join("\n"));
  console.log(`fd 4 → ${out.status}   (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
  await assertRestored(item.storePath, item.narHash);
  const run = await new Deno.Command(`${item.storePath}/bin/hello`).output();
  console.log(`${item.storePath}/bin/hello → ${new TextDecoder().decode(run.stdout).trim()}`);

  say("n3: guix-p2p peers");
  console.log((await leecher!.cli(["peers"])).stdout.trim());
  say("n3: guix-p2p status");
  console.log((await leecher!.cli(["status"])).stdout.trim());
  ok = out.status.startsWith("success ");
}
say(ok ? "demo finished: the item came from peers, verified" : "demo FAILED");
Deno.exit(ok ? 0 : 1);
