/**
 * The admin CLI finds the daemon by itself: with nothing naming a socket it
 * tries the user's own daemon, then the system service's (the socket_path of
 * the service's config file), says which one answered, and names both when
 * neither does.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { runCli, startDaemon } from "./support/daemon_proc.ts";
import { forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

function cli(args: string[], env: Record<string, string>) {
  return runCli(args, { env, clearEnv: true });
}

Deno.test("the CLI tries the user's daemon, then the service's, and says which", T, async () => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-locate-" });
  try {
    await Deno.writeTextFile(`${dir}/acl`, "(acl)\n");
    const home = `${dir}/home`;
    await Deno.mkdir(home);
    const serviceSocket = `${dir}/run/control.sock`;
    const common = { acl_path: `${dir}/acl`, store_dir: `${dir}/store` };
    const service = await startDaemon(`${dir}/svc`, { ...common, socket_path: serviceSocket });
    const env = {
      HOME: home,
      GUIX_P2P_SERVICE_CONFIG: service.configPath,
      GUIX_P2P_DENO: Deno.env.get("GUIX_P2P_DENO") ?? "",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
    };
    const userSocket = `${home}/.cache/guix-p2p/control.sock`;

    // Only the service runs: it is used, and the CLI says so.
    const s = await cli(["status", "--json"], env);
    assertEquals(s.code, 0, s.stderr);
    assertStringIncludes(
      s.stderr,
      `using the daemon at ${serviceSocket} (the system service, ${service.configPath})`,
    );
    assertEquals((JSON.parse(s.stdout) as { socket: string }).socket, serviceSocket);

    // share-info finds it the same way.
    const share = await cli(["share-info", "--json"], env);
    assertStringIncludes(share.stderr, `using the daemon at ${serviceSocket}`);

    // The user's own daemon comes first.
    const own = await startDaemon(`${dir}/own`, {
      ...common,
      cache_dir: `${home}/.cache/guix-p2p`,
      socket_path: userSocket,
    });
    const u = await cli(["status", "--json"], env);
    assertEquals(u.code, 0, u.stderr);
    assertStringIncludes(u.stderr, `using the daemon at ${userSocket} (your own daemon)`);
    assertEquals((JSON.parse(u.stdout) as { socket: string }).socket, userSocket);

    // An explicit --socket is used as is, silently.
    const x = await cli(["status", "--json", "--socket", serviceSocket], env);
    assertEquals(x.code, 0, x.stderr);
    assertEquals(x.stderr, "");
    assertEquals((JSON.parse(x.stdout) as { socket: string }).socket, serviceSocket);

    // Neither runs: both are named.
    await own.stop();
    await service.stop();
    const none = await cli(["peers"], env);
    assertEquals(none.code, 1);
    assertStringIncludes(none.stderr, "no guix-p2p daemon answers");
    assertStringIncludes(none.stderr, `${userSocket} (your own daemon)`);
    assertStringIncludes(none.stderr, `${serviceSocket} (the system service`);
  } finally {
    await forceRemove(dir);
  }
});
