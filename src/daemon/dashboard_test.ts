import { assert, assertEquals, assertMatch } from "@std/assert";
import { EventBus } from "../events/bus.ts";
import { daemonDashboard, dashboardSource, type P2pReports } from "./dashboard.ts";
import type { DaemonEvents } from "./events.ts";

const T = { sanitizeOps: false, sanitizeResources: false };
const PEER_ID = "12D3KooWSAe54fKU8hVUdkdbFEbtxTC9EQi3zwbYoDxBEJv5mR8M";

/** The daemon's and the P2P service's reports, shaped as DaemonHandler.status() and P2pService return them. */
const daemon = {
  handler: {
    status: () => ({
      version: "0.1.0",
      pid: 7,
      uptimeSeconds: 12,
      storeDir: "/gnu/store",
      socket: "/run/x.sock",
      policy: "p2p-first",
      substituteUrls: ["https://ci.guix.gnu.org"],
      activeTransfers: [],
    }),
  },
};
const p2p: P2pReports = {
  statusReport: () => ({
    peerId: PEER_ID,
    listen: ["/ip4/127.0.0.1/tcp/6881", "/ip4/192.168.1.5/tcp/6881"],
    shareable: ["/ip4/192.168.1.5/tcp/6881"],
    dhtMode: "server",
    dhtPeers: 4,
    connections: 3,
    seeds: 1,
    cacheBytes: 2048,
    downloads: [],
    nat: {
      reachability: "private",
      publicAddresses: [],
      unconfirmedAddresses: [],
      autonat: true,
      holePunching: { enabled: true, directUpgrades: 2 },
      upnp: { enabled: true, state: "idle", addresses: [] },
      relayClient: {
        mode: "auto",
        reservations: [{ relay: "12D3KooRelay", addresses: ["/ip4/203.0.113.9/tcp/6881"] }],
      },
      relayService: {
        enabled: false,
        reservations: 0,
        maxReservations: 16,
        maxDataBytes: 16 << 20,
        maxDurationSeconds: 120,
        circuitsPerPeerPerMinute: 6,
      },
      bytesIn: { direct: 4096, relayed: 512 },
    },
  }),
  peersReport: () => [{
    peerId: "peerA",
    connected: true,
    addresses: ["/ip4/192.168.1.6/tcp/6881"],
    agent: null,
    latencyMs: null,
    bytesUp: 1,
    bytesDown: 2,
    blocksUp: 0,
    blocksDown: 0,
    faults: 0,
    banned: false,
    score: 0.5,
  }],
  seeds: {
    list: () => [{
      narHash: "sha256:x",
      storePath: undefined,
      narSize: 9,
      kind: "cache",
      origin: "cache",
    }],
  },
};

Deno.test("dashboardSource maps the daemon's and the P2P service's reports", async () => {
  const source = dashboardSource({ announce: ["/dns4/nas.example.org/tcp/6881"] }, { daemon, p2p });
  assertEquals(await source.status(), {
    version: "0.1.0",
    pid: 7,
    uptimeSeconds: 12,
    policy: "p2p-first",
    storeDir: "/gnu/store",
    substituteUrls: ["https://ci.guix.gnu.org"],
    p2p: {
      peerId: PEER_ID,
      listen: ["/ip4/127.0.0.1/tcp/6881", "/ip4/192.168.1.5/tcp/6881"],
      dhtMode: "server",
      dhtPeers: 4,
      connections: 3,
      seeds: 1,
      cacheBytes: 2048,
      nat: {
        reachability: "private",
        autonat: true,
        relayReservations: ["12D3KooRelay"],
        relayService: false,
        holePunching: true,
        directUpgrades: 2,
        upnp: "idle",
        bytesDirect: 4096,
        bytesRelayed: 512,
      },
    },
  });
  assertEquals((await source.peers())[0], {
    peerId: "peerA",
    connected: true,
    addresses: ["/ip4/192.168.1.6/tcp/6881"],
    agent: null,
    latencyMs: null,
    bytesUp: 1,
    bytesDown: 2,
    faults: 0,
    score: 0.5,
    banned: false,
  });
  assertEquals(await source.seeds(), [{
    narHash: "sha256:x",
    storePath: null,
    narSize: 9,
    kind: "cache",
    origin: "cache",
  }]);
  const share = await source.shareInfo();
  assertEquals(share.addresses, [
    `/ip4/192.168.1.5/tcp/6881/p2p/${PEER_ID}`,
    `/dns4/nas.example.org/tcp/6881/p2p/${PEER_ID}`,
  ], "listen addresses and configured announce addresses");
  const without = dashboardSource({ announce: [] }, { daemon });
  assertEquals((await without.status()).p2p, null);
  assertEquals((await without.shareInfo()).state, "no-shareable-address");
});

function recorder(bus: EventBus<DaemonEvents>) {
  const seen: [string, unknown][] = [];
  bus.onAny((type, payload) => seen.push([type, payload]));
  return seen;
}

Deno.test('daemonDashboard: off with ""; a taken port is a warning, not a failure', T, async () => {
  const bus = new EventBus<DaemonEvents>();
  assertEquals(
    daemonDashboard({ dashboard_listen: "", announce: [] }, bus, { daemon, p2p }),
    undefined,
  );
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const listen = `127.0.0.1:${taken.addr.port}`;
  const seen = recorder(bus);
  const d = daemonDashboard({ dashboard_listen: listen, announce: [] }, bus, { daemon, p2p })!;
  await d.start();
  assertEquals(seen.length, 1);
  assertEquals(seen[0]![0], "daemon:warning");
  assertMatch(
    (seen[0]![1] as { message: string }).message,
    new RegExp(`^cannot serve the dashboard on ${listen}: .*; no dashboard$`),
  );
  await d.stop();
});

Deno.test(
  "daemonDashboard: a non-loopback address serves IP hosts, with a warning",
  T,
  async () => {
    const bus = new EventBus<DaemonEvents>();
    const seen = recorder(bus);
    const d = daemonDashboard({ dashboard_listen: "0.0.0.0:0", announce: [] }, bus, {
      daemon,
      p2p,
    })!;
    await d.start();
    try {
      const started = seen.find(([t]) => t === "dashboard:started")![1] as { url: string };
      assertEquals((started as unknown as { loopback: boolean }).loopback, false);
      const warning = seen.find(([t]) => t === "daemon:warning")![1] as { message: string };
      assertMatch(warning.message, /not on loopback: it has no authentication/);
      const port = new URL(started.url).port;
      const ok = await fetch(`http://127.0.0.1:${port}/api/status`);
      assertEquals(ok.status, 200);
      assertEquals(((await ok.json()) as { pid: number }).pid, 7);
      // A name other than localhost is refused (DNS rebinding), even on this bind.
      using conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
      await conn.write(
        new TextEncoder().encode(
          `GET /api/status HTTP/1.1\r\nHost: rebind.example:${port}\r\nConnection: close\r\n\r\n`,
        ),
      );
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      assert(n !== null);
      assertMatch(new TextDecoder().decode(buf.subarray(0, n)), /^HTTP\/1\.1 403 /);
    } finally {
      await d.stop();
    }
  },
);
