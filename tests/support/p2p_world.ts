/**
 * A world for P2P end-to-end runs (tests, the demo and the P2P benchmarks): a
 * Guix signing key and its ACL under `<root>/etc-guix`, a signed narinfo
 * cache in `<root>/cache` served over real HTTP, and the settings of a node
 * that substitutes from it. By default the server answers every NAR request
 * 404, so every NAR byte must come from peers.
 *
 * @example
 * ```ts
 * import { p2pWorld } from "./p2p_world.ts";
 * await using world = await p2pWorld("/tmp/p2p-test");
 * const item = await world.item("/tmp/p2p-test/src", "hello-1.0", "/tmp/p2p-test/n3/store");
 * world.leecherSettings("/tmp/p2p-test/n3/store"); // { store_dir, acl_path, substitute_urls, policy }
 * ```
 * @module
 */
import { signGuixNarinfo } from "../../src/trust/mod.ts";
import {
  type FixtureCompression,
  type FixtureItem,
  type FixtureKey,
  makeItem,
  makeKey,
  publishItem,
  writeGuixConfig,
} from "./guix_cache.ts";
import { type FileServer, startFileServer } from "./http_server.ts";
import { forceRemove } from "./tree_check.ts";

/** The world; disposing it closes the server and removes `root`. */
export interface P2pWorld extends AsyncDisposable {
  root: string;
  server: FileServer;
  key: FixtureKey;
  /** The ACL authorizing `key`. */
  acl: string;
  /** Daemon settings of a node that substitutes from this cache (`policy` default p2p-only). */
  leecherSettings(store: string, policy?: string): Record<string, unknown>;
  /**
   * Hashes `source` as the store item `name` of `storeDir` and publishes its
   * signed narinfo — with NARs in `options.compressions` when given, else the
   * narinfo alone (a zstd URL the server never has: cheap for large items).
   */
  item(
    source: string,
    name: string,
    storeDir: string,
    options?: { compressions?: FixtureCompression[]; references?: string[] },
  ): Promise<FixtureItem>;
}

/** Creates the world under `root`; `serveNars: true` lets the server answer NAR requests. */
export async function p2pWorld(
  root: string,
  options: { serveNars?: boolean } = {},
): Promise<P2pWorld> {
  await Deno.mkdir(`${root}/cache`, { recursive: true });
  const key = makeKey();
  await writeGuixConfig(`${root}/etc-guix`, key);
  const acl = `${root}/etc-guix/acl`;
  const server = await startFileServer({ root: `${root}/cache` });
  if (!options.serveNars) server.faults.push({ match: /\/nar\//, action: "status", status: 404 });
  return {
    root,
    server,
    key,
    acl,
    leecherSettings: (store, policy = "p2p-only") => ({
      store_dir: store,
      acl_path: acl,
      substitute_urls: [server.url],
      policy,
    }),
    async item(source, name, storeDir, itemOptions = {}) {
      const item = await makeItem(source, {
        storeDir,
        name,
        ...(itemOptions.references ? { references: itemOptions.references } : {}),
      });
      if (itemOptions.compressions) {
        await publishItem(`${root}/cache`, item, {
          key: key.key,
          compressions: itemOptions.compressions,
        });
        return item;
      }
      const text = signGuixNarinfo(
        {
          storePath: item.storePath,
          narHash: item.narHash,
          narSize: item.narSize,
          references: item.references,
          entries: [{ url: `nar/zstd/${item.baseName}`, compression: "zstd" }],
        },
        key.key,
        "test-host",
        "publish",
      );
      await Deno.writeTextFile(`${root}/cache/${item.hashPart}.narinfo`, text);
      return item;
    },
    async [Symbol.asyncDispose]() {
      await server.close();
      await forceRemove(root);
    },
  };
}
