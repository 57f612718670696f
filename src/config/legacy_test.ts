import { assertEquals, assertStringIncludes } from "@std/assert";
import { splitList, translateLegacy } from "./legacy.ts";

Deno.test("legacy keys become ours, each with a note naming the new key", () => {
  const r = translateLegacy({
    listen_addr: "/ip4/0.0.0.0/udp/6881/quic-v1",
    bootstrap_peers: "/ip4/10.0.0.2/tcp/6881/p2p/A, /ip4/10.0.0.3/udp/6881/quic-v1/p2p/B",
    substitute_policy: "http-first",
    max_upload_rate_kbps: 2048,
    auto_seed_downloads: true,
    max_total_peers: 50,
    reputation_ban_threshold: 5,
    min_providers: 3,
  });
  assertEquals(r.errors, []);
  assertEquals(r.values, {
    listen: ["/ip4/0.0.0.0/tcp/6881"],
    bootstrap_peers: ["/ip4/10.0.0.2/tcp/6881/p2p/A"],
    policy: "http-first",
    max_upload_rate: 2048 * 1024,
    auto_seed: "all",
    max_connections: 50,
    ban_threshold: 5,
    min_providers: 3,
  });
  const byKey = Object.fromEntries(r.warnings.map((w) => [w.key, w.message]));
  assertStringIncludes(byKey.listen_addr!, 'read as listen = ["/ip4/0.0.0.0/tcp/6881"]');
  assertStringIncludes(byKey.listen_addr!, "QUIC is not supported");
  assertStringIncludes(byKey.bootstrap_peers!, "comma-separated string");
  assertStringIncludes(byKey.bootstrap_peers!, "/ip4/10.0.0.3/udp/6881/quic-v1/p2p/B");
  assertStringIncludes(byKey.max_upload_rate_kbps!, "max_upload_rate = 2097152");
  assertEquals(byKey.min_providers, undefined, "a key we share is not a legacy key");
});

Deno.test("legacy keys: dropped ones say why; conflicts are errors", () => {
  const r = translateLegacy({ connection_retries: 3, tor_only: false, dashboard_port: 3030 });
  assertEquals(Object.keys(r.dropped).sort(), ["connection_retries", "dashboard_port", "tor_only"]);
  assertEquals(r.values, {});
  assertEquals(r.warnings.every((w) => w.message.includes("dropped")), true);
  const both = translateLegacy({
    listen_addr: "/ip4/0.0.0.0/tcp/1",
    listen: ["/ip4/0.0.0.0/tcp/2"],
  });
  assertEquals(both.errors.length, 1);
  assertStringIncludes(both.errors[0]!.message, 'keep "listen"');
  const bad = translateLegacy({ auto_seed_downloads: "sometimes" });
  assertEquals(bad.errors[0]?.key, "auto_seed_downloads");
});

Deno.test("legacy keys: the dashboard and the peer store", () => {
  assertEquals(
    translateLegacy({ dashboard_enabled: true, dashboard_port: 3031, dashboard_bind: "::1" })
      .values,
    { dashboard_listen: "[::1]:3031" },
  );
  assertEquals(translateLegacy({ dashboard_enabled: false }).values, { dashboard_listen: "" });
  assertEquals(translateLegacy({ peer_store_enabled: false }).values, { known_peers_max: 0 });
  assertEquals(translateLegacy({ auto_seed_downloads: false }).values, { auto_seed: "off" });
  assertEquals(splitList("a,b , c"), ["a", "b", "c"]);
  assertEquals(splitList(["a"]), ["a"]);
});
