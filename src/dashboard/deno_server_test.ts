import { assert, assertEquals, assertRejects } from "@std/assert";
import { EventBus } from "../events/bus.ts";
import { shareInfo } from "../p2p/share_info.ts";
import { Dashboard } from "./app.ts";
import { DashboardServer } from "./deno_server.ts";
import { DashboardListenError } from "./errors.ts";
import type { DashboardSource } from "./source.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

const source: DashboardSource = {
  status: () =>
    Promise.resolve({
      version: "0.1.0",
      pid: 1,
      uptimeSeconds: 0,
      policy: "p2p-first",
      storeDir: "/gnu/store",
      substituteUrls: [],
      p2p: null,
    }),
  peers: () => Promise.resolve([]),
  seeds: () => Promise.resolve([]),
  shareInfo: () => Promise.resolve(shareInfo({ peerId: null, addresses: [] })),
};

Deno.test("DashboardServer: a port in use is a DashboardListenError naming it", T, async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const listen = `127.0.0.1:${taken.addr.port}`;
  using dashboard = new Dashboard({ source, events: new EventBus<Record<string, unknown>>() });
  const server = new DashboardServer({ listen, dashboard });
  const e = await assertRejects(() => server.start(), DashboardListenError);
  assert(e.message.startsWith(`cannot serve the dashboard on ${listen}: `), e.message);
  await server.stop();
});

Deno.test(
  "DashboardServer over a socket: a stalled stream reader is dropped, a reading one keeps up",
  T,
  async () => {
    const bus = new EventBus<Record<string, unknown>>();
    const dashboard = new Dashboard({
      source,
      events: bus,
      maxQueuedBytes: 64 * 1024,
      heartbeatMs: 0,
    });
    await using server = new DashboardServer({ listen: "127.0.0.1:0", dashboard });
    await server.start();
    const { hostname, port } = new URL(server.url);
    // The stalled client: a raw connection that sends the request and never reads.
    using stalled = await Deno.connect({ hostname, port: Number(port) });
    await stalled.write(
      new TextEncoder().encode(`GET /api/stream HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`),
    );
    // The reading client: fetch, drained continuously.
    const res = await fetch(`${server.url}api/stream`);
    assertEquals(res.status, 200);
    let received = 0;
    const reading = (async () => {
      for await (const chunk of res.body!) received += chunk.length;
    })().then(() => "ended", (e) => `failed: ${(e as Error).message}`);
    // Events of ~2 KiB each (the stalled client's socket buffers take ~4 MB on loopback before
    // the server sees it fall behind), in batches of ~20 KiB (under the 64 KiB cap) that let the server and
    // the reader run in between.
    const message = "m".repeat(1900);
    let sent = 0;
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      for (let i = 0; i < 10; i++) bus.emit("daemon:warning", { message });
      sent += 10;
      await new Promise((r) => setTimeout(r, 1));
      if (dashboard.hub.dropped >= 1 && sent >= 5000) break;
    }
    assertEquals(dashboard.hub.dropped, 1, `only the stalled client is dropped (${sent} events)`);
    assertEquals(dashboard.hub.size, 1, "the reading client is still connected");
    assert(received > 5000 * 1900, `the reading client got everything so far (${received} B)`);
    await server.stop();
    assertEquals(await reading, "ended", "stopping the server ends the stream cleanly");
  },
);
