/**
 * The binary-cache gateway with the real Nix client (Debian nix-bin 2.8): a
 * signed Nix cache made by `nix copy --to file://…`, an upstream HTTP server
 * that serves its narinfos but not its NARs, a daemon seeding the paths, and
 * the gateway daemon from which a fresh client store copies the closure.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { freePort } from "./support/ports.ts";
import { startEvilPeer } from "./support/evil.ts";
import { startFileServer } from "./support/http_server.ts";
import { nix, type NixFixture, nixFixture } from "./support/nix.ts";
import { startSwarm, type SwarmNode, waitForDht } from "./support/swarm.ts";
import { forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

let counter = 0;
function freshStore(root: string) {
  const n = counter++;
  return { store: `${root}/client-${n}`, xdg: `${root}/xdg-${n}` };
}

async function copyFrom(gateway: string, fx: NixFixture, key: string, root: string) {
  const { store, xdg } = freshStore(root);
  const r = await nix(
    [
      "nix",
      "copy",
      "--from",
      gateway,
      "--to",
      store,
      fx.top,
      "--option",
      "trusted-public-keys",
      key,
    ],
    { xdg },
  );
  return { ...r, store, xdg };
}

/** `nix store verify -r` of `fx.top` in the client store a copy made, trusting `fx.publicKey`. */
function verifyCopy(
  copy: { store: string; xdg: string },
  fx: NixFixture,
  ...extra: string[]
): ReturnType<typeof nix> {
  return nix([
    "nix",
    "store",
    "verify",
    "--store",
    copy.store,
    "-r",
    ...extra,
    fx.top,
    "--option",
    "trusted-public-keys",
    fx.publicKey,
  ], { xdg: copy.xdg });
}

async function setup(
  root: string,
  tag: string,
  options: {
    nars?: boolean;
    gatewayKey?: string;
    seeders?: number;
    settings?: Record<string, unknown>;
    blobBytes?: number;
  } = {},
) {
  const fx = await nixFixture(root, tag, "zstd", options.blobBytes);
  const upstream = await startFileServer({ root: fx.cache });
  if (!options.nars) upstream.faults.push({ match: /\/nar\//, action: "status", status: 404 });
  const port = freePort();
  const seeders = options.seeders ?? 1;
  const swarm = await startSwarm(root, 2 + seeders, (i) =>
    i === 1
      ? {
        gateway_listen: `127.0.0.1:${port}`,
        nix_upstream_urls: [upstream.url],
        nix_trusted_public_keys: [options.gatewayKey ?? fx.publicKey],
        policy: "p2p-first",
        ...options.settings,
      }
      : {});
  const gw = swarm[1]!;
  await gw.daemon.waitForLog(/binary-cache gateway on/);
  return { fx, upstream, swarm, gw, gateway: `http://127.0.0.1:${port}` };
}

async function seed(node: SwarmNode, paths: string[]) {
  const r = await node.cli(["seed", ...paths]);
  assertEquals(r.code, 0, r.stderr);
  for (let i = 0; i < paths.length; i++) await node.daemon.waitForLog(/announced /, 30_000);
}

Deno.test(
  "nix copy --from the gateway gets a closure from a seeder; nix path-info and nix store verify pass",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-nix-" });
    const { fx, upstream, swarm, gw, gateway } = await setup(root, `ok${Date.now()}`);
    try {
      await seed(swarm[2]!, [fx.top, fx.dep]);
      await waitForDht(gw, 2);
      const r = await copyFrom(gateway, fx, fx.publicKey, root);
      assertEquals(r.code, 0, r.stderr);
      for (const p of [fx.top, fx.dep]) {
        const info = await nix(["nix", "path-info", "--store", r.store, p], { xdg: r.xdg });
        assertEquals(info.code, 0, `${p} is registered: ${info.stderr}`);
      }
      const verify = await verifyCopy(r, fx, "--sigs-needed", "1");
      assertEquals(verify.code, 0, verify.stderr);
      assertEquals(
        upstream.log.filter((l) => l.path.includes("/nar/") && l.status === 200).length,
        0,
        "no NAR from upstream",
      );
      // Nix asked for the narinfos first: the gateway fetched ahead what the seeder has (both
      // items); the NAR came from its verified cache, or from the fetch still running.
      // Both items, in one batch — or in two when the second narinfo request came after the
      // 20 ms batching window (a daemon's first requests run code not compiled yet).
      for (let fetched = 0, from = 0; fetched < 2;) {
        const line = await gw.daemon.waitForLog(
          /prefetched \d+ of \d+ item\(s\) from peers/,
          30_000,
          from,
        );
        fetched += Number(/prefetched (\d+) of/.exec(line)![1]);
        from = gw.daemon.log.indexOf(line, from) + 1;
      }
      const top = fx.top.slice(11, 43);
      await gw.daemon.waitForLog(
        new RegExp(
          `GET /nar/${top}/\\S+ 200 \\(nix\\): from cache|fetched /nix/store/${top}-\\S+: \\d+ bytes .* from p2p`,
        ),
      );
      // HEAD works (nix copy uses it), and the narinfo was rewritten to the gateway's uncompressed NAR.
      const hash = fx.top.slice(11, 43);
      const head = await fetch(`${gateway}/${hash}.narinfo`, { method: "HEAD" });
      assertEquals(head.status, 200);
      const text = await (await fetch(`${gateway}/${hash}.narinfo`)).text();
      assertMatch(text, /^URL: nar\/[0-9a-z]{32}\/[0-9a-z]{52}\.nar$/m);
      assertStringIncludes(text, "Compression: none\n");
      const info = await (await fetch(`${gateway}/nix-cache-info`)).text();
      assertStringIncludes(info, "StoreDir: /nix/store\n");
    } finally {
      await swarm[Symbol.asyncDispose]();
      await upstream.close();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "untrusted keys: the gateway refuses to relay, and Nix refuses what it does not trust",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-nix-" });
    const { fx, upstream, swarm, gateway } = await setup(root, `key${Date.now()}`, { nars: true });
    try {
      // The gateway trusts the cache's key, the client does not.
      const r1 = await copyFrom(gateway, fx, fx.otherPublicKey, root);
      assertEquals(r1.code !== 0, true);
      assertStringIncludes(r1.stderr, "lacks a valid signature");
    } finally {
      await swarm[Symbol.asyncDispose]();
      await upstream.close();
    }
    // A gateway that does not trust the cache's key serves nothing.
    const root2 = await Deno.makeTempDir({ prefix: "guix-p2p-nix-" });
    const second = await setup(root2, `key2${Date.now()}`, {
      nars: true,
      gatewayKey: "nobody-1:" + "A".repeat(43) + "=",
    });
    try {
      const hash = second.fx.top.slice(11, 43);
      assertEquals(await (await fetch(`${second.gateway}/${hash}.narinfo`)).text(), "not found\n");
      assertEquals((await fetch(`${second.gateway}/${hash}.narinfo`)).status, 404);
      const r2 = await copyFrom(second.gateway, second.fx, second.fx.publicKey, root2);
      assertEquals(r2.code !== 0, true);
      const valid = await nix(["nix", "path-info", "--store", r2.store, second.fx.top], {
        xdg: r2.xdg,
      });
      assertEquals(valid.code !== 0, true, "nothing registered");
    } finally {
      await second.swarm[Symbol.asyncDispose]();
      await second.upstream.close();
      await forceRemove(root);
      await forceRemove(root2);
    }
  },
);

Deno.test(
  "a corrupt seeder never gets bad bytes through; upstream NARs complete the copy",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-nix-" });
    const { fx, upstream, swarm, gw, gateway } = await setup(root, `evil${Date.now()}`, {
      nars: true,
      seeders: 0,
      settings: { ban_threshold: 1 },
    });
    try {
      // The only peer lies about the manifest of `top`.
      const narDir = `${root}/tree`;
      await new Deno.Command("cp", { args: ["-a", fx.top, narDir] }).output();
      await using liar = await startEvilPeer("lying-manifest", swarm[0]!.address, narDir);
      await waitForDht(gw, 1);
      const r = await copyFrom(gateway, fx, fx.publicKey, root);
      assertEquals(r.code, 0, r.stderr);
      const verify = await verifyCopy(r, fx);
      assertEquals(verify.code, 0, verify.stderr);
      await gw.daemon.waitForLog(new RegExp(`peer ${liar.peerId} penalised`));
      // The lie was caught before a byte of it reached Nix.
      assertEquals(/bad archive|hash mismatch/.test(r.stderr), false, r.stderr);
    } finally {
      await swarm[Symbol.asyncDispose]();
      await upstream.close();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "two colluding identities with one lying manifest do not count as corroboration: every Nix copy succeeds",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-nix-" });
    // A 6 MB item: past the whole-NAR limit, so it goes block by block under a manifest.
    const { fx, upstream, swarm, gw, gateway } = await setup(root, `sybil${Date.now()}`, {
      nars: true,
      seeders: 0,
      blobBytes: 6_000_000,
      settings: { gateway_verify_first: "uncorroborated" },
    });
    try {
      const narDir = `${root}/tree`;
      await new Deno.Command("cp", { args: ["-a", fx.top, narDir] }).output();
      // Two PeerIds, the same lie, both claiming to have verified it, both next to the gateway.
      await using a = await startEvilPeer("lying-manifest", swarm[0]!.address, narDir, 60_000, [
        gw.address,
      ]);
      await using b = await startEvilPeer("lying-manifest", swarm[0]!.address, narDir, 60_000, [
        gw.address,
      ]);
      await waitForDht(gw, 2);
      const r = await copyFrom(gateway, fx, fx.publicKey, root);
      assertEquals(r.code, 0, r.stderr);
      const verify = await verifyCopy(r, fx);
      assertEquals(verify.code, 0, verify.stderr);
      // Nothing of the lie reached Nix: it was checked whole before the first byte.
      assertEquals(/bad archive|hash mismatch|error/i.test(r.stderr), false, r.stderr);
      for (const liar of [a, b]) {
        await gw.daemon.waitForLog(new RegExp(`peer ${liar.peerId} penalised`));
      }
    } finally {
      await swarm[Symbol.asyncDispose]();
      await upstream.close();
      await forceRemove(root);
    }
  },
);

Deno.test("upstream down: cached narinfos are still served", T, async () => {
  const root = await Deno.makeTempDir({ prefix: "guix-p2p-nix-" });
  const { fx, upstream, swarm, gateway } = await setup(root, `down${Date.now()}`, { nars: true });
  try {
    const first = await copyFrom(gateway, fx, fx.publicKey, root);
    assertEquals(first.code, 0, first.stderr);
    await upstream.close();
    const { xdg } = freshStore(root);
    const info = await nix(
      [
        "nix",
        "path-info",
        "--store",
        gateway,
        "-r",
        fx.top,
        "--option",
        "trusted-public-keys",
        fx.publicKey,
      ],
      { xdg },
    );
    assertEquals(info.code, 0, info.stderr);
    assertStringIncludes(info.stdout, fx.dep);
  } finally {
    await swarm[Symbol.asyncDispose]();
    await forceRemove(root);
  }
});

Deno.test(
  "Range: a dropped transfer is resumed by Nix from the offset it reached (206)",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-nix-" });
    const { fx, upstream, swarm, gw, gateway } = await setup(root, `range${Date.now()}`, {
      nars: true,
      seeders: 0,
      settings: { policy: "http-only" },
    });
    try {
      // The upstream body of `top` is cut once: the gateway cannot finish the
      // response, aborts it, and Nix asks again with Range.
      const topInfo = await Deno.readTextFile(`${fx.cache}/${fx.top.slice(11, 43)}.narinfo`);
      const topNar = /^URL: (\S+)$/m.exec(topInfo)![1]!;
      upstream.faults.push({ match: new RegExp(`/${topNar}$`), action: "drop", count: 1 });
      const r = await copyFrom(gateway, fx, fx.publicKey, root);
      assertEquals(r.code, 0, r.stderr);
      assertMatch(r.stderr, /retrying from offset \d+/);
      await gw.daemon.waitForLog(/gateway GET \/nar\/\S+ 206/);
      const verify = await verifyCopy(r, fx);
      assertEquals(verify.code, 0, verify.stderr);
      // A direct Range request returns exactly the right slice of the NAR.
      const text = await (await fetch(`${gateway}/${fx.top.slice(11, 43)}.narinfo`)).text();
      const url = /^URL: (\S+)$/m.exec(text)![1]!;
      const dump = await new Deno.Command("nix-store", {
        args: ["--dump", fx.top],
        stdout: "piped",
      }).output();
      const res = await fetch(`${gateway}/${url}`, { headers: { range: "bytes=1000-" } });
      assertEquals(res.status, 206);
      assertEquals(
        res.headers.get("content-range"),
        `bytes 1000-${dump.stdout.length - 1}/${dump.stdout.length}`,
      );
      assertEquals(new Uint8Array(await res.arrayBuffer()), dump.stdout.subarray(1000));
      assertEquals(
        (await fetch(`${gateway}/${url}`, { headers: { range: "bytes=99999999-" } })).status,
        416,
      );
    } finally {
      await swarm[Symbol.asyncDispose]();
      await upstream.close();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "upstream stopped: nix copy through the gateway gets a Nix closure, narinfos and NARs, from two peers that hold it",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-nix-" });
    const fx = await nixFixture(root, `swarm${Date.now()}`);
    const upstream = await startFileServer({ root: fx.cache });
    const ports = [freePort(), freePort(), freePort()];
    // Every node relays the same upstream with the same key; n1 is the client's gateway,
    // n2 and n3 hold the closure.
    const swarm = await startSwarm(root, 4, (i) =>
      i === 0 ? {} : {
        gateway_listen: `127.0.0.1:${ports[i - 1]}`,
        nix_upstream_urls: [upstream.url],
        nix_trusted_public_keys: [fx.publicKey],
        policy: "p2p-first",
      });
    try {
      const [, gw, h1, h2] = swarm as unknown as SwarmNode[];
      for (const [i, holder] of [[1, h1!], [2, h2!]] as const) {
        // A holder verified the narinfos (a Nix client of its own asked for them) and seeds the items.
        for (const p of [fx.top, fx.dep]) {
          const res = await fetch(`http://127.0.0.1:${ports[i]}/${p.slice(11, 43)}.narinfo`);
          assertEquals(res.status, 200, `${holder.name}: ${await res.text()}`);
        }
        await seed(holder, [fx.top, fx.dep]);
      }
      await upstream.close();
      await waitForDht(gw!, 3);
      const r = await copyFrom(`http://127.0.0.1:${ports[0]}`, fx, fx.publicKey, root);
      assertEquals(r.code, 0, r.stderr);
      const verify = await verifyCopy(r, fx, "--sigs-needed", "1");
      assertEquals(verify.code, 0, verify.stderr);
      for (const p of [fx.top, fx.dep]) {
        await gw!.daemon.waitForLog(new RegExp(`narinfo of ${p.slice(11, 43)} from \\S+`), 1_000);
      }
      // The NAR came from the peers: fetched ahead into the verified cache, or fetched on request.
      const top = fx.top.slice(11, 43);
      await gw!.daemon.waitForLog(
        new RegExp(
          `GET /nar/${top}/\\S+ 200 \\(nix\\): from cache|fetched /nix/store/${top}-\\S+: \\d+ bytes .* from p2p`,
        ),
      );
      for (const holder of [h1!, h2!]) {
        assertEquals(
          holder.daemon.log.some((l) => /served [1-9]\d*\/\d+ nix narinfo/.test(l)),
          true,
        );
      }
    } finally {
      await swarm[Symbol.asyncDispose]();
      await upstream.close().catch(() => {});
      await forceRemove(root);
    }
  },
);
