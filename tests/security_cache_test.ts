/**
 * The narinfo cache cannot be grown or read by other local users (issue 10
 * item 5): 600 lookups of made-up paths through the loopback gateway create no
 * file (negative answers stay in a bounded memory map), and what is written
 * is private (0700 directories, 0600 files; an older 0755 tree is tightened).
 */
import { assertEquals, assertLessOrEqual } from "@std/assert";
import { freePort } from "./support/ports.ts";
import { startDaemon } from "./support/daemon_proc.ts";
import { startFileServer } from "./support/http_server.ts";

const T = { sanitizeOps: false, sanitizeResources: false };
const NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";

function hashPart(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return [...b].map((x) => NIX32[x % 32]).join("");
}

async function walk(dir: string, out: { path: string; mode: number; dir: boolean }[] = []) {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    const st = await Deno.lstat(path).catch(() => undefined);
    if (!st) continue; // a temporary file renamed meanwhile
    out.push({ path, mode: st.mode! & 0o777, dir: st.isDirectory });
    if (st.isDirectory) await walk(path, out);
  }
  return out;
}

Deno.test(
  "600 lookups of missing paths through the gateway create no cache file; the cache is private",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-cache-" });
    try {
      await Deno.mkdir(`${root}/srv`);
      const present = hashPart();
      await Deno.writeTextFile(
        `${root}/srv/${present}.narinfo`,
        `StorePath: /nix/store/${present}-x\n`,
      );
      await using server = await startFileServer({ root: `${root}/srv` });
      // A cache directory left by an older version, readable by everyone.
      await Deno.mkdir(`${root}/d/cache/narinfo/old`, { recursive: true, mode: 0o755 });
      await Deno.chmod(`${root}/d/cache/narinfo`, 0o755);
      const port = freePort();
      await using daemon = await startDaemon(`${root}/d`, {
        gateway_listen: `127.0.0.1:${port}`,
        substitute_urls: [server.url],
        nix_upstream_urls: [server.url],
        policy: "http-only",
      });
      await daemon.waitForLog(/binary-cache gateway on/, 20_000);
      for (let i = 0; i < 600; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/${hashPart()}.narinfo`);
        await r.body?.cancel();
        assertEquals(r.status, 404);
      }
      assertEquals(server.log.filter((l) => l.path.endsWith(".narinfo")).length >= 600, true);
      // One answer that is cached on disk; the writes are in order, so once its
      // file exists every earlier one would too.
      const r = await fetch(`http://127.0.0.1:${port}/${present}.narinfo`);
      await r.body?.cancel();
      const deadline = Date.now() + 10_000;
      let files: { path: string; mode: number; dir: boolean }[] = [];
      while (Date.now() < deadline) {
        files = await walk(`${root}/d/cache/narinfo`);
        if (files.some((f) => f.path.endsWith(`/${present}`))) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      const regular = files.filter((f) => !f.dir);
      assertEquals(
        regular.some((f) => f.path.endsWith(`/${present}`)),
        true,
        JSON.stringify(files),
      );
      assertLessOrEqual(regular.length, 2, JSON.stringify(regular));
      for (const f of files) assertEquals(f.mode, f.dir ? 0o700 : 0o600, f.path);
      assertEquals((await Deno.stat(`${root}/d/cache/narinfo`)).mode! & 0o777, 0o700);
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
);
