/**
 * Migrating from the original guix-p2p: its documented example configuration
 * (tests/fixtures/original_guix_p2p_config.toml, from
 * ../shared/docs/reference-guix-p2p.md §5) is read with a warning naming the
 * new key for each original key; `guix-p2p config migrate` writes a file in
 * the new keys that `config check` accepts without warnings and that means
 * the same; a daemon started on original keys runs and says what it read.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { runCli, startDaemon } from "./support/daemon_proc.ts";
import { forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };
const FIXTURE = new URL("./fixtures/original_guix_p2p_config.toml", import.meta.url).pathname;

const run = (args: string[]) => runCli(args);

Deno.test("the original guix-p2p's example configuration is read and migrated", T, async () => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-migrate-" });
  try {
    const check = await run(["config", "check", FIXTURE, "--json"]);
    assertEquals(check.code, 0, check.stderr);
    const effective = JSON.parse(check.stdout) as Record<string, unknown>;
    for (
      const [old, now] of [
        ["listen_addr", "listen"],
        ["external_addresses", "announce"],
        ["substitute_policy", "policy"],
        ["auto_seed_downloads", "auto_seed"],
        ["max_total_peers", "max_connections"],
        ["reputation_ban_threshold", "ban_threshold"],
        ["max_upload_rate_kbps", "max_upload_rate"],
        ["max_download_rate_kbps", "max_download_rate"],
        ["peer_store_max_entries", "known_peers_max"],
      ]
    ) {
      const line = check.stderr.split("\n").find((l) => l.includes(`"${old}"`)) ?? "";
      assertStringIncludes(line, `read as ${now} =`, `warning for ${old}:\n${check.stderr}`);
      assertStringIncludes(line, "original_guix_p2p_config.toml:");
    }
    assertStringIncludes(check.stderr, '"bootstrap_peers" as a comma-separated string');
    assertStringIncludes(check.stderr, '"connection_retries" is the original guix-p2p\'s; dropped');
    assertEquals(effective.listen, ["/ip4/0.0.0.0/tcp/6881"]);
    assertEquals(effective.announce, ["/ip4/198.51.100.7/tcp/6881"]);
    assertEquals(effective.bootstrap_peers, [
      "/dns4/guix-p2p.trevs.site/tcp/443/p2p/12D3KooWDnvPgCuPTPaMbnbLpXP7kCxmXc9F7agJPuAJWXGoDNPT",
      "/ip4/203.0.113.10/tcp/6881/p2p/12D3KooWQQYjzpHqgeqhZSojQMxEsL4RAeK9x2E6dmv6ECi3B6pU",
    ]);
    assertEquals(effective.substitute_urls, [
      "https://bordeaux.guix.gnu.org",
      "https://ci.guix.gnu.org",
    ]);
    assertEquals(
      [effective.policy, effective.auto_seed, effective.min_providers, effective.max_connections],
      ["http-first", "p2p", 3, 50],
    );
    assertEquals([effective.max_upload_rate, effective.max_download_rate], [2097152, 10485760]);
    assertEquals([effective.ban_threshold, effective.dashboard_listen], [5, ""]);
    assertEquals(effective.socket_path, "/var/cache/guix-p2p/guix-p2p.sock");

    // config migrate writes the same configuration in the new keys.
    const migrated = `${dir}/config.toml`;
    const m = await run(["config", "migrate", FIXTURE, "--output", migrated]);
    assertEquals(m.code, 0, m.stderr);
    const text = await Deno.readTextFile(migrated);
    assertStringIncludes(text, "# Keys of the original guix-p2p with no equivalent here:");
    assertStringIncludes(text, 'listen = [ "/ip4/0.0.0.0/tcp/6881" ]');
    const again = await run(["config", "check", migrated, "--json"]);
    assertEquals(again.code, 0, again.stderr);
    assertEquals(again.stderr, "", "no original keys left");
    assertEquals(JSON.parse(again.stdout), effective);
    // ... and never overwrites.
    const twice = await run(["config", "migrate", FIXTURE, "--output", migrated]);
    assertEquals(twice.code, 1);
    assertStringIncludes(twice.stderr, "already exists");
  } finally {
    await forceRemove(dir);
  }
});

Deno.test("a daemon started on the original's keys runs and names the new keys", T, async () => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-migrate-" });
  try {
    await Deno.writeTextFile(`${dir}/acl`, "(acl)\n");
    const d = await startDaemon(`${dir}/d`, {
      acl_path: `${dir}/acl`,
      store_dir: `${dir}/store`,
      listen: undefined,
      listen_addr: "/ip4/127.0.0.1/tcp/0",
      max_total_peers: 20,
      substitute_policy: "http-only",
    });
    try {
      await d.waitForLog(/P2P node \S+ \(DHT server\) on \/ip4\/127\.0\.0\.1\/tcp\/\d+/);
      const warn = d.log.filter((l) => /warn: .*is the original guix-p2p's/.test(l));
      assertEquals(warn.length, 3, d.log.join("\n"));
      assertStringIncludes(warn.join("\n"), "read as max_connections = 20");
      assertStringIncludes(warn.join("\n"), "config migrate");
    } finally {
      await d.stop();
    }
  } finally {
    await forceRemove(dir);
  }
});
