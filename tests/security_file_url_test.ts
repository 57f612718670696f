/**
 * An unprivileged client cannot make the daemon read its own files through
 * a `file://` substitute URL (issue 10 item 6): `guix build` passes
 * `untrusted-substitute-urls=file:///dir` where `dir` holds a copied, validly
 * signed narinfo whose (unsigned) URL line points at the daemon's
 * `identity.key`. The daemon uses client URLs only over http(s) and file://
 * only as configured, so the path is neither found nor read.
 */
import { assertEquals } from "@std/assert";
import { helperAgent, startDaemon } from "./support/daemon_proc.ts";
import { makeItem, makeKey, publishItem, writeGuixConfig } from "./support/guix_cache.ts";
import { startFileServer } from "./support/http_server.ts";
import { forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "a client-chosen file:// cache cannot make the daemon read its identity key",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-fileurl-" });
    try {
      const store = `${root}/store`;
      await Deno.mkdir(store);
      await Deno.mkdir(`${root}/src`);
      await Deno.writeTextFile(`${root}/src/file`, "hello\n");
      const key = makeKey();
      await writeGuixConfig(`${root}/etc-guix`, key);
      const item = await makeItem(`${root}/src`, { storeDir: store, name: "hello-1.0" });
      const daemonDir = `${root}/daemon`;
      const cacheDir = `${daemonDir}/cache`;
      // The attacker's directory: the signed narinfo with its URL line pointed at the key.
      await publishItem(`${root}/evil`, item, {
        key: key.key,
        compressions: ["none"],
        noFileSize: true,
        tamper: (t) =>
          t.replace(`URL: nar/${item.baseName}`, `URL: file://${cacheDir}/identity.key`),
      });
      await Deno.mkdir(`${root}/empty`);
      await using server = await startFileServer({ root: `${root}/empty` });
      await using daemon = await startDaemon(daemonDir, {
        store_dir: store,
        acl_path: `${root}/etc-guix/acl`,
        substitute_urls: [server.url],
        policy: "http-only",
        log_level: "debug",
      });
      const settings = {
        "substitute-urls": server.url,
        "untrusted-substitute-urls": `file://${root}/evil`,
        "untrusted-print-extended-build-trace": "1",
      };
      await using q = helperAgent("query", daemon, store, settings);
      assertEquals(await q.have([item.storePath]), []);
      await using s = helperAgent("substitute", daemon, store, settings);
      const out = await s.substitute(item.storePath, item.storePath, 30_000);
      assertEquals(out.status.startsWith("success"), false, out.status);
      const touched = daemon.log.filter((l) => l.includes("identity.key") || l.includes("/evil"));
      assertEquals(touched, [], "the daemon never used the client's file:// URL");
      await Deno.lstat(`${store}/${item.baseName}`).then(
        () => assertEquals("restored", "absent"),
        () => {},
      );
    } finally {
      await forceRemove(root);
    }
  },
);
