import { assertEquals, assertStringIncludes } from "@std/assert";
import {
  checkBootstrap,
  checkCacheSpace,
  checkClock,
  checkGuixDaemon,
  checkNat,
  checkSocket,
  exitStatus,
  formatCheck,
  runChecks,
} from "./mod.ts";
import type { DoctorFacts } from "./facts.ts";

const SOCK = "/run/guix-p2p/control.sock";

function facts(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    now: 0,
    config: { warnings: [], origin: "service", file: "/etc/guix-p2p/config.toml" },
    socket: {
      path: SOCK,
      stat: { isSocket: true, mode: 0o140660, gid: 990, group: "guix-p2p" },
      wantGroup: "guix-p2p",
      tried: [],
    },
    daemon: {
      status: {
        version: "0.1.0",
        pid: 7,
        uptimeSeconds: 3,
        p2p: {
          peerId: "12D3KooWA",
          listen: ["/ip4/192.168.1.5/tcp/6881/p2p/12D3KooWA"],
          dhtMode: "server",
          dhtPeers: 2,
          inbound: 1,
        },
      },
      peers: [{ peerId: "12D3KooWB", connected: true }],
    },
    acl: {
      path: "/etc/guix/acl",
      keys: ["7D602902D3A2DBB83F8A0FB98602A754C5493B0B778C8D1DD4E0F41DE14DE34F"],
      otherEntries: 0,
    },
    http: [{
      url: "https://bordeaux.guix.gnu.org",
      status: 200,
      at: 10_000,
      date: new Date(10_000).toUTCString(),
    }],
    listen: [{ address: "/ip4/0.0.0.0/tcp/6881", host: "0.0.0.0", port: 6881 }],
    bootstrapPeers: [],
    guixDaemons: [],
    cache: {
      path: "/var/cache/guix-p2p",
      availableBytes: 50 * 1024 ** 3,
      cacheSize: 10 * 1024 ** 3,
    },
    ...over,
  };
}

Deno.test("doctor checks: a healthy service node", () => {
  const results = runChecks(facts());
  assertEquals(exitStatus(results), 0);
  assertEquals(
    results.find((r) => r.id === "acl")?.summary,
    "/etc/guix/acl: 1 key(s): bordeaux.guix.gnu.org",
  );
  assertEquals(formatCheck(results[0]!), "✓ config: /etc/guix-p2p/config.toml");
});

Deno.test("doctor checks: socket modes, bootstrap peers, clock skew, disk space", () => {
  assertEquals(
    checkSocket(
      facts({
        socket: {
          ...facts().socket,
          stat: { isSocket: true, mode: 0o140600, gid: 0, group: "root" },
        },
      }),
    ).status,
    "warn",
  );
  const boot = facts({
    bootstrapPeers: [
      "/ip4/10.0.0.2/tcp/6881/p2p/12D3KooWB",
      "/ip4/10.0.0.3/tcp/6881/p2p/12D3KooWC",
    ],
  });
  assertEquals(checkBootstrap(boot).summary, "1 of 2 connected");
  assertEquals(
    checkBootstrap(facts({ bootstrapPeers: ["/ip4/10.0.0.3/tcp/6881/p2p/12D3KooWC"] })).status,
    "warn",
  );
  const skewed = facts({
    http: [{ url: "https://x", status: 200, at: 500_000, date: new Date(10_000).toUTCString() }],
  });
  const clock = checkClock(skewed);
  assertEquals([clock.status, clock.summary], ["warn", "490 s ahead of https://x"]);
  assertEquals(
    checkCacheSpace(facts({ cache: { path: "/c", availableBytes: 10 << 20, cacheSize: 1 } }))
      .status,
    "fail",
  );
});

Deno.test("doctor checks: NAT from the daemon when it reports one; guix-daemon's socket", () => {
  assertEquals(checkNat(facts()).status, "unknown");
  const withNat = facts();
  (withNat.daemon!.status.p2p as Record<string, unknown>).nat = "public";
  assertEquals(checkNat(withNat).status, "ok");
  const wrongSocket = facts({
    guixDaemons: [{
      pid: 5,
      env: { GUIX_EXTENSIONS_PATH: "/x", GUIX_P2P_SOCKET: "/var/cache/guix-p2p/guix-p2p.sock" },
      extensionDirs: [{ dir: "/x", ours: true }],
    }],
  });
  const r = checkGuixDaemon(wrongSocket);
  assertEquals(r.status, "fail");
  assertStringIncludes(r.summary, "uses the socket /var/cache/guix-p2p/guix-p2p.sock, not " + SOCK);
});
