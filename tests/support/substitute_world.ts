/**
 * A scratch world for substitute tests: a temporary store, a Guix config
 * directory with a fresh signing key and its ACL, helpers to make store items
 * from small trees and publish them in caches served over real HTTP.
 *
 * @module
 */
import {
  type FixtureItem,
  type FixtureKey,
  makeItem,
  makeKey,
  publishItem,
  type PublishOptions,
  writeGuixConfig,
} from "./guix_cache.ts";
import { type DaemonProcess, helperAgent, startDaemon } from "./daemon_proc.ts";
import type { SubstituterAgent } from "./guix_daemon.ts";
import { type FileServer, type FileServerOptions, startFileServer } from "./http_server.ts";
import { randomBytes } from "./random.ts";
import { forceRemove } from "./tree_check.ts";

/** The world. */
export interface SubstituteWorld extends AsyncDisposable {
  dir: string;
  store: string;
  guixConf: string;
  acl: string;
  key: FixtureKey;
  /** Makes an item from a tree of `files` (path → content; a number means that many random bytes). */
  item(
    name: string,
    files: Record<string, string | number>,
    options?: { references?: string[] },
  ): Promise<FixtureItem>;
  /** Publishes `item` into cache directory `cache` (relative to the world). */
  publish(cache: string, item: FixtureItem, options?: Partial<PublishOptions>): Promise<string>;
  /** Serves cache directory `cache` over HTTP. */
  serve(cache: string, options?: Partial<FileServerOptions>): Promise<FileServer>;
  /**
   * Starts a guix-p2p daemon in `<dir>/d` for this world's store and ACL,
   * resolving from `urls`; `settings` add to or override its configuration.
   */
  daemon(urls: string[], settings?: Record<string, unknown>): Promise<DaemonProcess>;
  /**
   * Spawns the real helper (`bin/guix-p2p-substitute`) as guix-daemon would,
   * talking to `daemon`; `settings` go into `_NIX_OPTIONS`.
   */
  agent(
    mode: "query" | "substitute",
    daemon: DaemonProcess,
    settings?: Record<string, string>,
  ): SubstituterAgent;
  close(): Promise<void>;
}

/** Creates a world. */
export async function substituteWorld(prefix = "guix-p2p-test-"): Promise<SubstituteWorld> {
  const dir = await Deno.makeTempDir({ prefix });
  const store = `${dir}/store`;
  await Deno.mkdir(store);
  const key = makeKey();
  const guixConf = `${dir}/etc-guix`;
  await writeGuixConfig(guixConf, key);
  const servers: FileServer[] = [];
  let n = 0;
  const close = async () => {
    for (const s of servers) await s.close().catch(() => {});
    await forceRemove(dir);
  };
  return {
    dir,
    store,
    guixConf,
    acl: `${guixConf}/acl`,
    key,
    async item(name, files, options = {}) {
      const src = `${dir}/src-${n++}-${name}`;
      for (const [path, content] of Object.entries(files)) {
        const full = `${src}/${path}`;
        await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
        if (typeof content === "number") await Deno.writeFile(full, randomBytes(content));
        else await Deno.writeTextFile(full, content);
      }
      await Deno.mkdir(src, { recursive: true });
      return await makeItem(src, {
        storeDir: store,
        name,
        ...(options.references ? { references: options.references } : {}),
      });
    },
    publish(cache, item, options = {}) {
      return publishItem(`${dir}/${cache}`, item, { key: key.key, ...options });
    },
    async serve(cache, options = {}) {
      await Deno.mkdir(`${dir}/${cache}`, { recursive: true });
      const server = await startFileServer({ root: `${dir}/${cache}`, ...options });
      servers.push(server);
      return server;
    },
    daemon(urls, settings = {}) {
      return startDaemon(`${dir}/d`, {
        store_dir: store,
        acl_path: `${guixConf}/acl`,
        substitute_urls: urls,
        ...settings,
      });
    },
    agent(mode, daemon, settings = {}) {
      return helperAgent(mode, daemon, store, settings);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Lists a directory's entry names, sorted. */
export async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) names.push(e.name);
  return names.sort();
}
