/**
 * `guix-p2p share-info` against real daemons: the lines it prints for a
 * shareable node are accepted as they are by a neighbour's `guix-p2p config
 * check` (TOML) and read by Guile as the `bootstrap-peers` field (Scheme); a
 * loopback-only node and a stopped daemon are reported with exit status 1.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { LAUNCHER, startDaemon } from "./support/daemon_proc.ts";
import { forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

async function run(
  args: string[],
  options: { stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [program, ...rest] = args;
  const child = new Deno.Command(program!, {
    args: rest,
    env: { NO_COLOR: "1" },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

interface ShareInfoJson {
  state: string;
  peerId: string | null;
  addresses: string[];
  toml: string | null;
  scheme: string | null;
  detail: string;
}

Deno.test("share-info: paste-ready lines a neighbour's config and Guile accept", T, async () => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-share-" });
  try {
    await Deno.writeTextFile(`${dir}/acl`, "(acl)\n");
    const announced = "/ip4/192.0.2.10/tcp/6881";
    const d = await startDaemon(`${dir}/a`, {
      acl_path: `${dir}/acl`,
      store_dir: `${dir}/store`,
      listen: ["/ip4/127.0.0.1/tcp/0"],
      announce: [announced],
    });
    const [, peerId] = /P2P node (\S+)/.exec(await d.waitForLog(/P2P node \S+/))!;
    const text = await run([LAUNCHER, "share-info", "--config", d.configPath]);
    assertEquals(text.code, 0, text.stderr);
    const address = `${announced}/p2p/${peerId}`;
    assertStringIncludes(text.stdout, `shareable (peer id ${peerId})`);
    assertStringIncludes(text.stdout, `  bootstrap_peers = ["${address}"]\n`);
    assertStringIncludes(text.stdout, `  (bootstrap-peers '("${address}"))\n`);

    const json = await run([LAUNCHER, "share-info", "--json", "--config", d.configPath]);
    assertEquals(json.code, 0, json.stderr);
    const info = JSON.parse(json.stdout) as ShareInfoJson;
    assertEquals([info.state, info.peerId, info.addresses], ["shareable", peerId, [address]]);

    // A neighbour pastes the TOML line into its config: `config check` accepts it as is.
    await Deno.writeTextFile(`${dir}/neighbour.toml`, `${info.toml}\n`);
    const check = await run([LAUNCHER, "config", "check", `${dir}/neighbour.toml`, "--json"]);
    assertEquals(check.code, 0, check.stderr);
    assertEquals((JSON.parse(check.stdout) as { bootstrap_peers: string[] }).bootstrap_peers, [
      address,
    ]);
    // ... or the Scheme field into its service declaration: Guile reads the expected datum.
    const guile = await run([
      "guile",
      "--no-auto-compile",
      "-c",
      "(let ((form (read))) (write (list (car form) (cadr (cadr form)))))",
    ], { stdin: info.scheme! });
    assertEquals(guile.code, 0, guile.stderr);
    assertEquals(guile.stdout, `(bootstrap-peers ("${address}"))`);

    // The same node on loopback only has nothing to share, and says what to change.
    await d.stop();
    const loop = await startDaemon(`${dir}/b`, {
      acl_path: `${dir}/acl`,
      store_dir: `${dir}/store`,
      listen: ["/ip4/127.0.0.1/tcp/0"],
    });
    const none = await run([LAUNCHER, "share-info", "--json", "--config", loop.configPath]);
    assertEquals(none.code, 1);
    const noneInfo = JSON.parse(none.stdout) as ShareInfoJson;
    assertEquals([noneInfo.state, noneInfo.toml], ["no-shareable-address", null]);
    assertMatch(noneInfo.detail, /\/ip4\/127\.0\.0\.1\/tcp\/\d+/);
    assertStringIncludes(noneInfo.detail, 'listen = ["/ip4/0.0.0.0/tcp/6881"]');

    // No daemon: exit 1, naming the socket.
    await loop.stop();
    const down = await run([LAUNCHER, "share-info", "--config", loop.configPath]);
    assertEquals(down.code, 1);
    assertMatch(
      down.stdout,
      /^daemon-not-running: cannot connect to the daemon at \S+control\.sock/,
    );
  } finally {
    await forceRemove(dir);
  }
});
