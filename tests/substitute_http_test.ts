/**
 * The Guix substitute path end to end with HTTP substitutes: the guix-daemon
 * emulator drives bin/guix-p2p-substitute, which talks to a real daemon
 * process, which fetches from a real HTTP server serving narinfos signed with
 * our signer and NARs compressed by the real Debian tools.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { helperAgent, startDaemon } from "./support/daemon_proc.ts";
import {
  type FixtureItem,
  makeItem,
  makeKey,
  publishItem,
  writeGuixConfig,
} from "./support/guix_cache.ts";
import { startFileServer } from "./support/http_server.ts";
import { randomBytes } from "./support/random.ts";
import { assertRestored, forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

async function writeTreeA(dir: string, refPath: string): Promise<void> {
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  await Deno.mkdir(`${dir}/share/doc`, { recursive: true });
  await Deno.mkdir(`${dir}/empty`);
  await Deno.writeTextFile(`${dir}/bin/hello`, `#!/bin/sh\nexec ${refPath}/bin/dep "$@"\n`);
  await Deno.chmod(`${dir}/bin/hello`, 0o755);
  await Deno.writeTextFile(`${dir}/share/doc/README`, "hello\n".repeat(5000));
  await Deno.writeFile(`${dir}/share/blob`, randomBytes(300_000));
  await Deno.symlink("bin/hello", `${dir}/link`);
  await Deno.symlink("/nonexistent/dangling", `${dir}/dangling`);
  await Deno.writeTextFile(`${dir}/share/ünïcode-名前`, "");
}

interface World {
  dir: string;
  store: string;
  guixConf: string;
  a: FixtureItem;
  b: FixtureItem;
  serverUrl: string;
  close(): Promise<void>;
}

async function world(): Promise<World> {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-e2e-" });
  const store = `${dir}/store`;
  await Deno.mkdir(store);
  const srcB = `${dir}/src-b`;
  await Deno.mkdir(`${srcB}/bin`, { recursive: true });
  await Deno.writeTextFile(`${srcB}/bin/dep`, "#!/bin/sh\necho dep\n");
  await Deno.chmod(`${srcB}/bin/dep`, 0o755);
  const b = await makeItem(srcB, { storeDir: store, name: "dep-1.0" });
  const srcA = `${dir}/src-a`;
  await writeTreeA(srcA, b.storePath);
  const a0 = await makeItem(srcA, { storeDir: store, name: "hello-2.12", deriver: "" });
  const a: FixtureItem = {
    ...a0,
    references: [a0.baseName, b.baseName],
    deriver: `${a0.hashPart.replace(/./, "0")}-hello-2.12.drv`,
  };
  const key = makeKey();
  const guixConf = `${dir}/etc-guix`;
  await writeGuixConfig(guixConf, key);
  const cache = `${dir}/cache`;
  await publishItem(cache, a, {
    key: key.key,
    compressions: ["lzip", "zstd", "gzip", "xz", "none"],
  });
  await publishItem(cache, b, { key: key.key, compressions: ["zstd"], layout: "old" });
  const server = await startFileServer({ root: cache });
  return {
    dir,
    store,
    guixConf,
    a,
    b,
    serverUrl: server.url,
    close: async () => {
      await server.close();
      await forceRemove(dir);
    },
  };
}

Deno.test("have, info and substitute through the emulator, helper and daemon", T, async (t) => {
  const w = await world();
  await using daemon = await startDaemon(`${w.dir}/daemon`, {
    store_dir: w.store,
    acl_path: `${w.guixConf}/acl`,
    substitute_urls: [w.serverUrl],
    policy: "http-only",
  });
  const settings = { "substitute-urls": w.serverUrl, "untrusted-print-extended-build-trace": "1" };
  const missing = `${w.store}/00000000000000000000000000000000-missing`;
  try {
    await t.step("have claims exactly the signed paths", async () => {
      await using q = helperAgent("query", daemon, w.store, settings);
      assertEquals(
        await q.have([w.a.storePath, w.b.storePath, missing]),
        [w.a.storePath, w.b.storePath].sort(),
      );
      // The process is reused for the next request, as guix-daemon does.
      assertEquals(await q.have([missing]), []);
      const info = await q.info([w.a.storePath, missing]);
      assertEquals(info.length, 1);
      assertEquals(info[0]!.path, w.a.storePath);
      assertEquals(info[0]!.deriver, `${w.store}/${w.a.deriver}`);
      assertEquals(info[0]!.references, [w.a.storePath, w.b.storePath]);
      assertEquals(info[0]!.narSize, w.a.narSize);
      assertEquals(info[0]!.downloadSize > 0, true);
    });

    await t.step(
      "substitute restores a byte-identical tree and reports hash and size in one write",
      async () => {
        await using s = helperAgent("substitute", daemon, w.store, settings);
        for (const item of [w.b, w.a]) {
          const out = await s.substitute(item.storePath, item.storePath);
          assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
          assertEquals(out.unterminated, false);
          assertEquals(out.extra, "");
          await assertRestored(item.storePath, item.narHash);
        }
        assertEquals(
          s.log.some((l) =>
            l.startsWith(`@ download-started ${w.a.storePath} ${w.serverUrl}/nar/`)
          ),
          true,
        );
        assertEquals(s.log.some((l) => /^@ download-succeeded \S+ \S+ \d+$/.test(l)), true);
        // Nothing but the items was written into the store.
        const names = [];
        for await (const e of Deno.readDir(w.store)) names.push(e.name);
        assertEquals(names.sort(), [w.a.baseName, w.b.baseName].sort());
      },
    );

    await t.step("the daemon logs where the bytes came from", () => {
      assertMatch(daemon.log.join("\n"), /fetched .*hello-2\.12: \d+ bytes .* from http/);
    });
  } finally {
    const { ms } = await daemon.stop();
    assertEquals(ms < 1000, true, `daemon stopped in ${ms} ms`);
    await w.close();
  }
});
