/**
 * `guix-p2p doctor` against real daemons, a real HTTP server and a process
 * named guix-daemon whose environment it reads from /proc: a healthy node
 * exits 0; with the socket missing, the ACL missing, the listen port taken
 * by another program, HTTP unreachable, or guix-daemon without the
 * extension, it names each problem (✗ and the fix) and exits 1.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { stringify } from "@std/toml";
import { type DaemonProcess, LAUNCHER, ROOT, runCli, startDaemon } from "./support/daemon_proc.ts";
import { makeKey, writeGuixConfig } from "./support/guix_cache.ts";
import { startFileServer } from "./support/http_server.ts";
import { forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface Check {
  id: string;
  status: "ok" | "warn" | "fail" | "unknown";
  summary: string;
  fix?: string;
}

async function doctor(configPath: string) {
  const out = await runCli(["doctor", "--json", "--config", configPath]);
  const report = JSON.parse(out.stdout) as { ok: boolean; checks: Check[] };
  const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
  return { code: out.code, report, byId, text: out.stdout, stderr: out.stderr };
}

function doctorText(configPath: string) {
  return runCli(["doctor", "--config", configPath]);
}

/** A process whose name is guix-daemon, with `env` as its environment (until killed). */
async function fakeGuixDaemon(dir: string, env: Record<string, string>) {
  await Deno.copyFile("/bin/sleep", `${dir}/guix-daemon`);
  await Deno.chmod(`${dir}/guix-daemon`, 0o755);
  const child = new Deno.Command(`${dir}/guix-daemon`, {
    args: ["600"],
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Wait (bounded) until /proc shows the environment we gave it.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const environ = await Deno.readTextFile(`/proc/${child.pid}/environ`).catch(() => "");
    if (environ.includes("GUIX_EXTENSIONS_PATH") || !env.GUIX_EXTENSIONS_PATH) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

Deno.test("doctor: a healthy node passes; each problem is named with ✗ and exit 1", T, async () => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-doctor-" });
  const daemons: DaemonProcess[] = [];
  try {
    const key = makeKey();
    await writeGuixConfig(`${dir}/etc-guix`, key);
    await Deno.mkdir(`${dir}/cache`);
    await Deno.writeTextFile(
      `${dir}/cache/nix-cache-info`,
      "StoreDir: /gnu/store\nWantMassQuery: 0\nPriority: 100\n",
    );
    const server = await startFileServer({ root: `${dir}/cache` });
    const extensions = `${dir}/extensions`;
    await Deno.mkdir(extensions);
    await Deno.copyFile(`${ROOT}/extension/substitute.scm`, `${extensions}/substitute.scm`);
    const settings = {
      store_dir: `${dir}/store`,
      acl_path: `${dir}/etc-guix/acl`,
      substitute_urls: [server.url],
      listen: ["/ip4/127.0.0.1/tcp/0"],
    };
    const d = await startDaemon(`${dir}/d`, settings);
    daemons.push(d);
    await d.waitForLog(/P2P node/);

    // Healthy, with guix-daemon running through the extension.
    {
      await using _guixd = await fakeGuixDaemon(dir, {
        GUIX_EXTENSIONS_PATH: extensions,
        GUIX_P2P_SOCKET: d.socketPath,
        GUIX_P2P_SUBSTITUTE_ROUTING: "p2p-first",
      });
      const ok = await doctor(d.configPath);
      assertEquals(ok.code, 0, ok.text);
      assertEquals(ok.report.ok, true);
      assertEquals(ok.report.checks.filter((c) => c.status === "fail"), []);
      for (
        const id of ["config", "daemon", "socket", "acl", "substitute-urls", "listen", "cache"]
      ) {
        assertEquals(ok.byId[id]?.status, "ok", `${id}: ${JSON.stringify(ok.byId[id])}`);
      }
      assertStringIncludes(ok.byId.acl!.summary, "1 key(s)");
      assertEquals(ok.byId["guix-daemon"]?.status, "ok", ok.text);
      assertStringIncludes(ok.byId["guix-daemon"]!.summary, `extension ${extensions}`);
      assertStringIncludes(ok.byId["guix-daemon"]!.summary, "routing p2p-first");
      assertEquals(ok.byId.clock?.status, "ok", ok.text);
      assertEquals(ok.byId.nat?.status, "unknown");
      // The text form: one line per check, ✓ or ✗ first.
      const text = await doctorText(d.configPath);
      assertEquals(text.code, 0);
      assertEquals(
        text.stdout.split("\n").filter((l) => l).every((l) => /^[✓!✗?] [a-z-]+: /.test(l)),
        true,
      );
    }

    // guix-daemon without the extension.
    {
      await using _guixd = await fakeGuixDaemon(dir, { PATH: "/usr/bin:/bin" });
      const r = await doctor(d.configPath);
      assertEquals(r.code, 1);
      assertEquals(r.byId["guix-daemon"]?.status, "fail", r.text);
      assertStringIncludes(r.byId["guix-daemon"]!.summary, "without guix-p2p's extension");
      assertStringIncludes(r.byId["guix-daemon"]!.fix ?? "", "herd restart guix-daemon");
    }

    // The ACL missing.
    await Deno.rename(`${dir}/etc-guix/acl`, `${dir}/etc-guix/acl.away`);
    {
      const r = await doctor(d.configPath);
      assertEquals(r.code, 1);
      assertEquals(r.byId.acl?.status, "fail");
      assertStringIncludes(r.byId.acl!.summary, `${dir}/etc-guix/acl: does not exist`);
      assertStringIncludes(r.byId.acl!.fix ?? "", "guix archive --authorize");
    }
    await Deno.rename(`${dir}/etc-guix/acl.away`, `${dir}/etc-guix/acl`);

    // HTTP unreachable.
    await server.close();
    {
      const r = await doctor(d.configPath);
      assertEquals(r.code, 1);
      assertEquals(r.byId["substitute-urls"]?.status, "fail");
      assertStringIncludes(r.byId["substitute-urls"]!.summary, `none answers: ${server.url}`);
    }

    // The socket missing (the daemon stopped).
    await d.stop();
    {
      const r = await doctor(d.configPath);
      assertEquals(r.code, 1);
      assertEquals(r.byId.daemon?.status, "fail");
      assertStringIncludes(
        r.byId.daemon!.summary,
        `no daemon answers at ${d.socketPath}: no socket`,
      );
      assertStringIncludes(r.byId.daemon!.fix ?? "", "herd start guix-p2p");
    }

    // The listen port taken by another program: the daemon cannot start; doctor says why.
    using other = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (other.addr as Deno.NetAddr).port;
    const configPath = `${dir}/taken.toml`;
    await Deno.writeTextFile(
      configPath,
      stringify({
        ...settings,
        cache_dir: `${dir}/taken/cache`,
        socket_path: `${dir}/taken/control.sock`,
        listen: [`/ip4/127.0.0.1/tcp/${port}`],
        gateway_listen: "",
        dashboard_listen: "",
        mdns: false,
      }),
    );
    const failed = await new Deno.Command(LAUNCHER, {
      args: ["--daemon", "--config", configPath],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assertEquals(failed.success, false, "the daemon cannot listen there");
    {
      const r = await doctor(configPath);
      assertEquals(r.code, 1);
      assertEquals(r.byId.listen?.status, "fail", r.text);
      assertStringIncludes(
        r.byId.listen!.summary,
        `cannot listen on /ip4/127.0.0.1/tcp/${port} (address in use)`,
      );
      assertStringIncludes(r.byId.listen!.fix ?? "", `sport = :${port}`);
      assertEquals(r.byId.daemon?.status, "fail");
    }
  } finally {
    for (const d of daemons) await d.stop().catch(() => {});
    await forceRemove(dir);
  }
});

Deno.test("doctor: an invalid configuration is the one thing reported", T, async () => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-doctor-" });
  try {
    await Deno.writeTextFile(`${dir}/bad.toml`, 'policy = "fastest"\n');
    const r = await doctor(`${dir}/bad.toml`);
    assertEquals(r.code, 1);
    assertEquals(r.report.checks.map((c) => [c.id, c.status]), [["config", "fail"]]);
    assertStringIncludes(r.byId.config!.summary, `${dir}/bad.toml:1: key "policy"`);
  } finally {
    await forceRemove(dir);
  }
});
