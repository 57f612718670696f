/**
 * The Guile extension under real Guile 3.0: guix-daemon (our emulator) runs
 * `guix substitute --query|--substitute`; the `guix` stand-in resolves the
 * command exactly as Guix does, finds extension/substitute.scm through
 * GUIX_EXTENSIONS_PATH, and the shim execs the guix-p2p helper — or falls
 * back to the built-in substituter (a stand-in module that announces itself)
 * when the daemon socket is absent or stale or the helper is missing.
 */
import { assertEquals } from "@std/assert";
import { HELPER, ROOT, startDaemon } from "./support/daemon_proc.ts";
import { makeItem, makeKey, publishItem, writeGuixConfig } from "./support/guix_cache.ts";
import { SubstituterAgent } from "./support/guix_daemon.ts";
import { startFileServer } from "./support/http_server.ts";
import { assertRestored, forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };
const GUIX = [`${ROOT}/tests/guile/guix`, "substitute"];
const BUILTIN_MARK = "stand-in builtin substituter";

Deno.test(
  "the extension routes guix substitute to guix-p2p, and falls back to the built-in",
  T,
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "guix-p2p-ext-" });
    const store = `${dir}/store`;
    await Deno.mkdir(store);
    await Deno.mkdir(`${dir}/src`);
    await Deno.writeTextFile(`${dir}/src/hello`, "hello from the swarm\n");
    const item = await makeItem(`${dir}/src`, { storeDir: store, name: "hello-1" });
    const key = makeKey();
    await writeGuixConfig(`${dir}/etc-guix`, key);
    await publishItem(`${dir}/cache`, item, { key: key.key, compressions: ["zstd"] });
    await using server = await startFileServer({ root: `${dir}/cache` });
    const daemon = await startDaemon(`${dir}/daemon`, {
      store_dir: store,
      acl_path: `${dir}/etc-guix/acl`,
      substitute_urls: [server.url],
    });
    const env = (extra: Record<string, string> = {}) => ({
      GUIX_EXTENSIONS_PATH: `${ROOT}/extension`,
      GUIX_P2P_HELPER: HELPER,
      GUIX_P2P_SOCKET: daemon.socketPath,
      GUIX_P2P_CONFIG: daemon.configPath,
      NIX_STORE_DIR: store,
      ...extra,
    });
    const settings = { "substitute-urls": server.url };
    try {
      await t.step("live daemon: the shim execs the helper (have, info, substitute)", async () => {
        await using q = SubstituterAgent.query({
          program: GUIX,
          env: env(),
          settings,
          storeDir: store,
        });
        assertEquals(await q.have([item.storePath]), [item.storePath]);
        assertEquals((await q.info([item.storePath]))[0]?.narSize, item.narSize);
        assertEquals(q.log.some((l) => l.includes(BUILTIN_MARK)), false);
        await using s = SubstituterAgent.substitute({
          program: GUIX,
          env: env(),
          settings,
          storeDir: store,
        });
        const out = await s.substitute(item.storePath, item.storePath);
        assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
        await assertRestored(item.storePath, item.narHash);
      });

      await t.step(
        "builtin-first: Guix's substituter first, guix-p2p for what it lacks",
        async () => {
          await using q = SubstituterAgent.query({
            program: GUIX,
            env: env({ GUIX_P2P_SUBSTITUTE_ROUTING: "builtin-first" }),
            settings,
            storeDir: store,
          });
          assertEquals(await q.have([item.storePath]), [item.storePath]);
          await q.waitForLog(new RegExp(BUILTIN_MARK));
        },
      );

      await t.step("helper missing: falls back to the built-in", async () => {
        await using q = SubstituterAgent.query({
          program: GUIX,
          env: env({ GUIX_P2P_HELPER: `${dir}/no-such-helper`, PATH: "/usr/bin:/bin" }),
          settings,
          storeDir: store,
        });
        assertEquals(await q.have([item.storePath]), []);
        await q.waitForLog(new RegExp(BUILTIN_MARK));
        await q.waitForLog(/no-such-helper is not executable; using Guix's built-in substituter/);
      });

      await t.step("socket absent: falls back to the built-in", async () => {
        await using q = SubstituterAgent.query({
          program: GUIX,
          env: env({ GUIX_P2P_SOCKET: `${dir}/absent.sock` }),
          settings,
          storeDir: store,
        });
        assertEquals(await q.have([item.storePath]), []);
        await q.waitForLog(/absent\.sock is absent; using Guix's built-in substituter/);
      });

      await t.step("stale socket (daemon gone): falls back to the built-in", async () => {
        const stale = `${dir}/stale.sock`;
        // A socket file nobody listens on, as a crashed daemon leaves behind (Deno unlinks on close, python does not).
        const made = await new Deno.Command("python3", {
          args: [
            "-c",
            "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()",
            stale,
          ],
        }).output();
        assertEquals(made.success, true);
        await using q = SubstituterAgent.query({
          program: GUIX,
          env: env({ GUIX_P2P_SOCKET: stale }),
          settings,
          storeDir: store,
        });
        assertEquals(await q.have([item.storePath]), []);
        await q.waitForLog(/stale\.sock is stale \(connection refused\)/);
      });

      await t.step(
        "daemon dies after the helper started: the helper answers through the built-in and stays up",
        async () => {
          await using q = SubstituterAgent.query({
            program: GUIX,
            env: env(),
            settings,
            storeDir: store,
          });
          assertEquals(await q.have([item.storePath]), [item.storePath]);
          await daemon.kill();
          assertEquals(await q.have([item.storePath]), []);
          assertEquals(q.dead, false);
          await q.waitForLog(new RegExp(BUILTIN_MARK));
        },
      );
    } finally {
      await daemon.kill();
      await forceRemove(dir);
    }
  },
);
