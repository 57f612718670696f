/**
 * Daemon lifecycle and CLI behaviour across processes: clean shutdown on
 * SIGINT, the narinfo cache persisted on disk across a restart, `seed_paths`
 * seeded at start, `auto_seed = "all"` seeding HTTP substitutions from the
 * store, and clear CLI errors when no daemon runs.
 */
import { assertEquals, assertLess, assertStringIncludes } from "@std/assert";
import { helperAgent, LAUNCHER, startDaemon } from "./support/daemon_proc.ts";
import { startNode } from "./support/swarm.ts";
import { substituteWorld } from "./support/substitute_world.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

// The process exits at most 800 ms after the signal whatever happens (daemon/main.ts), so the
// time alone proves little: the daemon must also say that its stop completed, not that it
// was cut short.
Deno.test(
  "SIGINT stops the daemon completely within a second and removes its socket",
  T,
  async () => {
    await using w = await substituteWorld();
    const d = await startDaemon(`${w.dir}/d`, {
      store_dir: w.store,
      acl_path: w.acl,
      listen: ["/ip4/127.0.0.1/tcp/0"],
    });
    const t0 = performance.now();
    d.child.kill("SIGINT");
    const status = await d.child.status;
    assertLess(performance.now() - t0, 1000);
    assertEquals(status.code, 0);
    await d.stop();
    assertEquals(
      d.log.filter((l) => /stopped in \d+ ms|did not stop/.test(l)).length,
      1,
      d.log.join("\n"),
    );
    assertEquals(d.log.some((l) => /stopped in \d+ ms/.test(l)), true, d.log.join("\n"));
    assertEquals(await Deno.lstat(d.socketPath).then(() => true, () => false), false);
  },
);

Deno.test(
  "the narinfo cache survives a restart: lookups work while the server is gone",
  T,
  async () => {
    await using w = await substituteWorld();
    const item = await w.item("cached", { f: "x\n" });
    await w.publish("c", item);
    const server = await w.serve("c");
    const first = await w.daemon([server.url]);
    {
      await using q = w.agent("query", first);
      assertEquals(await q.have([item.storePath]), [item.storePath]);
    }
    await first.stop();
    await server.close();
    const requests = server.log.length;
    await using second = await w.daemon([server.url]);
    await using q = w.agent("query", second);
    assertEquals(
      await q.have([item.storePath]),
      [item.storePath],
      "answered from the persisted cache",
    );
    assertEquals(server.log.length, requests, "no request reached the server");
    const files = [];
    for await (const e of Deno.readDir(`${w.dir}/d/cache/narinfo`)) files.push(e.name);
    assertEquals(files.length, 1, "one directory per substitute server");
  },
);

Deno.test(
  'seed_paths are seeded at start; auto_seed = "all" seeds HTTP substitutions',
  T,
  async () => {
    await using w = await substituteWorld();
    const pre = await w.item("preseeded", { f: "seed me\n" });
    const dir = `${w.dir}/n`;
    const store = `${dir}/store`;
    await Deno.mkdir(store, { recursive: true });
    const prePath = `${store}/${pre.baseName}`;
    await new Deno.Command("cp", { args: ["-a", pre.source, prePath] }).output();
    const fetched = await w.item("fetched", { f: "from http\n" });
    const leechItem = { ...fetched, storePath: `${store}/${fetched.baseName}` };
    await w.publish("c", leechItem);
    const server = await w.serve("c");
    const node = await startNode("n", dir, {
      store_dir: store,
      acl_path: w.acl,
      substitute_urls: [server.url],
      seed_paths: [prePath],
      auto_seed: "all",
      policy: "http-only",
    });
    try {
      await node.daemon.waitForLog(/seeding \S+-preseeded \(config\)/, 30_000);
      await using s = helperAgent("substitute", node.daemon, store);
      assertEquals(
        (await s.substitute(leechItem.storePath, leechItem.storePath)).status,
        `success ${leechItem.narHash} ${leechItem.narSize}`,
      );
      await node.daemon.waitForLog(/seeding \S+-fetched \(auto\)/, 30_000);
      const seeds = await node.json<{ storePath: string; origin: string; narHash: string }[]>([
        "seeds",
      ]);
      assertEquals(
        seeds.map((x) => [x.storePath, x.origin]).sort(),
        [[prePath, "config"], [leechItem.storePath, "auto"]].sort(),
      );
      assertEquals(seeds.find((x) => x.storePath === prePath)?.narHash, pre.narHash);
    } finally {
      await node.daemon.stop();
    }
  },
);

Deno.test("admin commands name the socket when no daemon runs", T, async () => {
  const dir = await Deno.makeTempDir();
  for (const cmd of ["status", "peers", "seeds"]) {
    const out = await new Deno.Command(LAUNCHER, {
      args: [cmd, "--socket", `${dir}/absent.sock`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 1, cmd);
    assertStringIncludes(
      new TextDecoder().decode(out.stderr),
      `cannot connect to the daemon at ${dir}/absent.sock`,
    );
  }
  const usage = await new Deno.Command(LAUNCHER, {
    args: ["seed"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(usage.code !== 0, true);
  await Deno.remove(dir, { recursive: true });
});
