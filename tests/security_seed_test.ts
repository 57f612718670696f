/**
 * Only real store items are published to peers (issue 10 item 4): `seed`
 * refuses `<store>/..`, `<store>/.`, `<store>/.links`, non-store names,
 * trailing slashes and `//`, each with an error naming the path; a symlink
 * store item is published as the symlink, never its target; and a remote peer
 * cannot find (so cannot fetch) a file that lives next to the store.
 */
import { assertEquals, assertNotEquals, assertStringIncludes } from "@std/assert";
import { createHash } from "node:crypto";
import { formatNarHash } from "../src/hash/nar_hash.ts";
import { dumpPath } from "../src/fs/mod.ts";
import { narCid } from "../src/p2p/content_key.ts";
import { probeProviders } from "./support/dht_flood.ts";
import { startSwarm } from "./support/swarm.ts";

const T = { sanitizeOps: false, sanitizeResources: false };
const ITEM = "0a0b0c0d0f0g0h0i0j0k0l0m0n0p0q0r";

async function narHashOf(path: string): Promise<Uint8Array> {
  const h = createHash("sha256");
  for await (const c of dumpPath(path)) h.update(c);
  return new Uint8Array(h.digest());
}

Deno.test(
  "seed publishes only store items; a remote peer cannot find a file next to the store",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-seed-" });
    try {
      // Node 0's store sits in a directory that also holds a secret.
      const srv = `${root}/srv`;
      await using swarm = await startSwarm(
        root,
        2,
        (i) => i === 0 ? { store_dir: `${srv}/store` } : {},
      );
      const [node, remote] = swarm;
      const store = node!.store;
      const secretPath = `${srv}/secret`;
      // A secret next to the store, a dot entry in it, links pointing out of it.
      await Deno.writeTextFile(secretPath, "root-only\n");
      await Deno.mkdir(`${store}/.links`);
      await Deno.symlink(secretPath, `${store}/${ITEM}-link`);
      await Deno.mkdir(`${store}/${ITEM}-real`);
      await Deno.writeTextFile(`${store}/${ITEM}-real/file`, "ok\n");
      await Deno.symlink(secretPath, `${store}/not-a-store-name`);

      for (
        const bad of [
          `${store}/..`,
          `${store}/.`,
          `${store}/.links`,
          `${store}/not-a-store-name`,
          `${store}/${ITEM}-real/`,
          `${store}//${ITEM}-real`,
          `${store}/${ITEM}-real/file`,
          secretPath,
        ]
      ) {
        const r = await node!.cli(["seed", bad]);
        assertEquals(r.code, 1, `${bad}: ${r.stdout}`);
        assertStringIncludes(r.stderr, `cannot seed ${bad}: ${bad} is not a store item`);
      }
      assertEquals(await node!.json<unknown[]>(["seeds"]), []);

      // A symlink item is published as the symlink (its NAR names the target; it holds no byte of it).
      const ok = await node!.json<{ ok: boolean; narHash: string }[]>([
        "seed",
        `${store}/${ITEM}-link`,
        `${store}/${ITEM}-real`,
      ]);
      assertEquals(ok.map((r) => r.ok), [true, true], JSON.stringify(ok));
      assertEquals(ok[0]!.narHash, formatNarHash(await narHashOf(`${store}/${ITEM}-link`)));
      assertNotEquals(ok[0]!.narHash, formatNarHash(await narHashOf(secretPath)));

      // What `seed <store>/..` would have published: nobody provides it.
      await node!.daemon.waitForLog(/announced /, 30_000);
      const parent = narCid(await narHashOf(`${store}/..`)).toString();
      const probe = await probeProviders(remote!.address, parent);
      assertEquals(probe.providers, []);
      const secret = narCid(await narHashOf(secretPath)).toString();
      assertEquals((await probeProviders(remote!.address, secret)).providers, []);
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
);
