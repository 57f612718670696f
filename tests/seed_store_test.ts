/**
 * Seeding many items from the store, through the real daemon and CLI:
 * `seed --profile` and `--closure` follow references (a plain directory
 * store: by scanning files and symlinks; the real /nix/store: through
 * `nix-store --query --requisites`), `seed --store` takes every item, nothing
 * is copied into the cache, a progress bar is drawn on a terminal, and
 * `seed_profiles` follows a profile to its next generation.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { LAUNCHER } from "./support/daemon_proc.ts";
import { nixFixture } from "./support/nix.ts";
import { randomHashPart } from "./support/guix_cache.ts";
import { startNode, type SwarmNode } from "./support/swarm.ts";
import { forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface SeedRow {
  storePath: string;
  origin: string;
  kind: string;
}

/** A profile-like closure in `store`: profile → app → lib, linked as Guix links them. */
async function closure(store: string, tag: string) {
  const lib = `${store}/${randomHashPart()}-lib-${tag}`;
  const app = `${store}/${randomHashPart()}-app-${tag}`;
  const profile = `${store}/${randomHashPart()}-profile`;
  await Deno.mkdir(`${lib}/lib`, { recursive: true });
  await Deno.writeTextFile(`${lib}/lib/libx.so`, `lib ${tag}\n`);
  await Deno.mkdir(`${app}/bin`, { recursive: true });
  await Deno.writeTextFile(`${app}/bin/app`, `#!/bin/sh\nLD_LIBRARY_PATH=${lib}/lib\n`);
  await Deno.mkdir(`${profile}/bin`, { recursive: true });
  await Deno.symlink(`${app}/bin/app`, `${profile}/bin/app`);
  await Deno.writeTextFile(
    `${profile}/manifest`,
    `(manifest (version 4) (packages (("app" "1" "out" "${app}" (propagated-inputs ())))))\n`,
  );
  return { lib, app, profile };
}

async function seeds(node: SwarmNode): Promise<SeedRow[]> {
  return await node.json<SeedRow[]>(["seeds"]);
}

Deno.test("seed --profile / --closure / --store read the store and copy nothing", T, async () => {
  const root = await Deno.makeTempDir({ prefix: "guix-p2p-seed-" });
  try {
    const store = `${root}/n/store`;
    await Deno.mkdir(store, { recursive: true });
    const a = await closure(store, "a");
    const b = await closure(store, "b");
    const loose = `${store}/${randomHashPart()}-loose`;
    await Deno.writeTextFile(loose, "not referenced\n");
    // A user's profile link, as ~/.guix-profile → …/guix-profile-1-link → the store.
    await Deno.symlink(a.profile, `${root}/guix-profile-1-link`);
    await Deno.symlink(`${root}/guix-profile-1-link`, `${root}/guix-profile`);
    const node = await startNode("n", `${root}/n`, { store_dir: store });
    try {
      const p = await node.cli(["seed", "--profile", `${root}/guix-profile`]);
      assertEquals(p.code, 0, p.stderr);
      assertStringIncludes(p.stdout, `closure of ${a.profile}: 3 item(s) newly seeded`);
      assertEquals(
        (await seeds(node)).map((s) => s.storePath).sort(),
        [a.lib, a.app, a.profile].sort(),
      );
      // A closure that shares nothing with it; then the same again (nothing new).
      const c = await node.cli(["seed", "--closure", b.app, "--json"]);
      assertEquals(c.code, 0, c.stderr);
      const [job] = JSON.parse(c.stdout) as { seeded: number; already: number; state: string }[];
      assertEquals([job!.state, job!.seeded, job!.already], ["done", 2, 0]);
      const again = await node.cli(["seed", "--closure", b.app]);
      assertStringIncludes(again.stdout, "0 item(s) newly seeded, 2 already seeded");
      // The whole store: everything shaped like an item.
      const s = await node.cli(["seed", "--store"]);
      assertEquals(s.code, 0, s.stderr);
      assertStringIncludes(
        s.stdout,
        `the store ${store}: 2 item(s) newly seeded, 5 already seeded`,
      );
      const all = await seeds(node);
      assertEquals(all.length, 7);
      assertEquals(all.every((x) => x.kind === "store" && x.origin === "explicit"), true);
      // Served from the store: nothing was copied into the block cache.
      const cached = [];
      for await (const e of Deno.readDir(`${root}/n/cache/blocks`)) cached.push(e.name);
      assertEquals(cached.filter((n) => /^[0-9a-f]{64}$/.test(n)), []);
      // Errors name the path.
      const bad = await node.cli(["seed", "--profile", `${root}/absent`]);
      assertEquals(bad.code, 1);
      assertStringIncludes(bad.stderr, `cannot seed ${root}/absent`);
      const outside = await node.cli(["seed", "--closure", root]);
      assertEquals(outside.code, 1);
      assertStringIncludes(outside.stderr, "which is not an item of");
    } finally {
      await node.daemon.stop();
    }
  } finally {
    await forceRemove(root);
  }
});

Deno.test("seed: a progress bar on a terminal, at the indexing rate limit", T, async () => {
  const root = await Deno.makeTempDir({ prefix: "guix-p2p-seed-" });
  try {
    const store = `${root}/n/store`;
    await Deno.mkdir(store, { recursive: true });
    for (let i = 0; i < 6; i++) {
      const item = `${store}/${randomHashPart()}-blob-${i}`;
      await Deno.mkdir(item);
      await Deno.writeFile(
        `${item}/data`,
        crypto.getRandomValues(new Uint8Array(65536)).map((x) => x),
      );
      // 1 MiB each, read at 1 MiB/s after a 4 MiB burst: ~2 s in all.
      const big = new Uint8Array(1 << 20);
      for (let o = 0; o < big.length; o += 65536) {
        crypto.getRandomValues(big.subarray(o, o + 65536));
      }
      await Deno.writeFile(`${item}/big`, big);
    }
    const node = await startNode("n", `${root}/n`, {
      store_dir: store,
      seed_index_rate: "1MiB/s",
    });
    try {
      // `script` gives the command a real terminal.
      const out = await new Deno.Command("script", {
        args: [
          "-qec",
          `${LAUNCHER} seed --store --config ${node.daemon.configPath}`,
          "/dev/null",
        ],
        env: { NO_COLOR: "1", COLUMNS: "120" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, text);
      assertStringIncludes(text, "\r[");
      assertEquals(/\r\[#*\.*\]\s+\d\/6 +[\d.]+ \w+ read +the store /.test(text), true, text);
      assertStringIncludes(text, "6 item(s) newly seeded");
    } finally {
      await node.daemon.stop();
    }
  } finally {
    await forceRemove(root);
  }
});

Deno.test("seed_profiles: a profile is seeded, and again at its next generation", T, async () => {
  const root = await Deno.makeTempDir({ prefix: "guix-p2p-seed-" });
  try {
    const store = `${root}/n/store`;
    await Deno.mkdir(store, { recursive: true });
    const g1 = await closure(store, "one");
    const g2 = await closure(store, "two");
    await Deno.symlink(g1.profile, `${root}/profile-1-link`);
    await Deno.symlink(`${root}/profile-1-link`, `${root}/profile`);
    const node = await startNode("n", `${root}/n`, {
      store_dir: store,
      seed_profiles: [`${root}/profile`],
    });
    try {
      await node.daemon.waitForLog(/seeding profile .*: done, 3 newly seeded/, 30_000);
      assertEquals(
        (await seeds(node)).map((s) => [s.storePath, s.origin]).sort(),
        [[g1.lib, "config"], [g1.app, "config"], [g1.profile, "config"]].sort(),
      );
      // `guix package` makes a new generation and switches the profile link atomically.
      await Deno.symlink(g2.profile, `${root}/profile-2-link`);
      await Deno.symlink(`${root}/profile-2-link`, `${root}/profile.new`);
      await Deno.rename(`${root}/profile.new`, `${root}/profile`);
      // The old generation is collected.
      await Deno.remove(`${root}/profile-1-link`);
      await Deno.remove(g1.profile, { recursive: true });
      await node.daemon.waitForLog(
        new RegExp(`profile \\S+ is ${g2.profile} \\(was ${g1.profile}\\)`),
        30_000,
      );
      await node.daemon.waitForLog(new RegExp(`seeding profile .*${g2.profile}.*: done`), 30_000);
      await node.daemon.waitForLog(/no longer seeding [0-9a-f]{64}/, 30_000);
      const now = (await seeds(node)).map((s) => s.storePath).sort();
      assertEquals(now, [g1.lib, g1.app, g2.lib, g2.app, g2.profile].sort());
    } finally {
      await node.daemon.stop();
    }
  } finally {
    await forceRemove(root);
  }
});

Deno.test("seed --closure of a real /nix/store item asks Nix for its requisites", T, async () => {
  const root = await Deno.makeTempDir({ prefix: "guix-p2p-seed-" });
  try {
    const fx = await nixFixture(root, `seed${Date.now()}`);
    const node = await startNode("n", `${root}/n`, { nix_store_dir: "/nix/store" });
    try {
      const r = await node.cli(["seed", "--closure", fx.top, "--json"]);
      assertEquals(r.code, 0, r.stderr);
      const [job] = JSON.parse(r.stdout) as { seeded: number; rule: string }[];
      assertEquals(job!.seeded, 2);
      assertStringIncludes(job!.rule, "nix-store --query --requisites");
      const paths = (await seeds(node)).map((s) => s.storePath).sort();
      assertEquals(paths, [fx.dep, fx.top].sort());
      const status = await node.cli(["status"]);
      assertEquals(status.code, 0, status.stderr);
    } finally {
      await node.daemon.stop();
    }
  } finally {
    await forceRemove(root);
  }
});
