import { assert, assertEquals, assertMatch } from "@std/assert";
import { EventBus } from "../events/bus.ts";
import { formatNarHash } from "../hash/nar_hash.ts";
import { shareInfo } from "../p2p/share_info.ts";
import { Dashboard, type DashboardOptions } from "./app.ts";
import { APP_JS } from "./assets/app_js.ts";
import type { DashboardSource, NodeStatus, PeerView, SeedView, ShareInfo } from "./source.ts";

const PEER_ID = "12D3KooWSAe54fKU8hVUdkdbFEbtxTC9EQi3zwbYoDxBEJv5mR8M";
const STATUS: NodeStatus = {
  version: "0.1.0",
  pid: 4242,
  uptimeSeconds: 61,
  policy: "p2p-first",
  storeDir: "/gnu/store",
  substituteUrls: ["https://bordeaux.guix.gnu.org"],
  p2p: {
    peerId: PEER_ID,
    listen: ["/ip4/127.0.0.1/tcp/6881", "/ip4/192.168.1.5/tcp/6881"],
    dhtMode: "server",
    dhtPeers: 3,
    connections: 2,
    seeds: 2,
    cacheBytes: 1024,
    nat: null,
  },
};
const peer = (id: string, connected: boolean): PeerView => ({
  peerId: id,
  connected,
  addresses: ["/ip4/192.168.1.6/tcp/6881"],
  agent: "guix-p2p/0.1.0",
  latencyMs: 1.5,
  bytesUp: 10,
  bytesDown: 20,
  faults: 0,
  score: 1,
  banned: false,
});
const SEEDS: SeedView[] = [
  {
    narHash: formatNarHash(new Uint8Array(32)),
    storePath: "/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a",
    narSize: 100,
    kind: "store",
    origin: "auto",
  },
  {
    narHash: formatNarHash(new Uint8Array(32).fill(1)),
    storePath: null,
    narSize: 50,
    kind: "cache",
    origin: "cache",
  },
];

/** A source over fixed data (what the daemon's adapter returns, without a daemon). */
function fixedSource(overrides: Partial<DashboardSource> = {}): DashboardSource {
  return {
    status: () => Promise.resolve(STATUS),
    peers: () => Promise.resolve([peer("peerA", true), peer("peerB", false)]),
    seeds: () => Promise.resolve(SEEDS),
    shareInfo: () => Promise.resolve(shareInfo({ peerId: PEER_ID, addresses: STATUS.p2p!.listen })),
    ...overrides,
  };
}

function setup(options: Partial<DashboardOptions> = {}) {
  const bus = new EventBus<Record<string, unknown>>();
  const dashboard = new Dashboard({
    source: fixedSource(),
    events: bus,
    heartbeatMs: 0,
    ...options,
  });
  return { bus, dashboard };
}

function get(path: string, headers: Record<string, string> = {}, method = "GET"): Request {
  return new Request(`http://127.0.0.1:6880${path}`, {
    method,
    headers: { host: "127.0.0.1:6880", ...headers },
  });
}

async function getJson<T = Record<string, unknown>>(d: Dashboard, path: string): Promise<T> {
  const res = await d.handle(get(path));
  assertEquals(res.status, 200, `${path}: ${res.status}`);
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  assertEquals(res.headers.get("cache-control"), "no-store");
  return await res.json() as T;
}

Deno.test("dashboard API: status, peers, seeds, share-info, with limits", async () => {
  using d = setup().dashboard;
  {
    assertEquals(await getJson<NodeStatus>(d, "/api/status"), STATUS);
    const peers = await getJson<{ total: number; peers: PeerView[] }>(d, "/api/peers?limit=1");
    assertEquals([peers.total, peers.peers.map((p) => p.peerId)], [2, ["peerA"]]);
    assertEquals((await getJson<{ peers: unknown[] }>(d, "/api/peers?limit=x")).peers.length, 2);
    assertEquals(await getJson<unknown>(d, "/api/seeds"), {
      total: 2,
      totalBytes: 150,
      seeds: SEEDS,
    });
    const share = await getJson<ShareInfo>(d, "/api/share-info");
    assertEquals(share.state, "shareable");
    assertEquals(share.toml, `bootstrap_peers = ["/ip4/192.168.1.5/tcp/6881/p2p/${PEER_ID}"]`);
    const missing = await d.handle(get("/api/nope"));
    assertEquals(missing.status, 404);
    assertEquals(await missing.json(), { error: "no such page: /api/nope" });
  }
});

Deno.test("dashboard API: a failing source is a 503 naming the cause", async () => {
  using d = setup({
    source: fixedSource({ peers: () => Promise.reject(new Error("the P2P node is not running")) }),
  }).dashboard;
  const res = await d.handle(get("/api/peers"));
  assertEquals(res.status, 503);
  assertEquals(await res.json(), { error: "the P2P node is not running" });
});

Deno.test("dashboard API: transfers and events come from the event bus", async () => {
  const { bus, dashboard } = setup();
  using d = dashboard;
  const narHash = formatNarHash(new Uint8Array(32).fill(9));
  const storePath = "/gnu/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-hello-2.12";
  bus.emit("transfer:started", { transfer: 1, storePath, narHash, narSize: 1000, policy: "p2p" });
  bus.emit("transfer:source", { transfer: 1, source: "p2p", url: "p2p://x", offset: 0 });
  bus.emit("transfer:progress", {
    transfer: 1,
    bytes: 250,
    narSize: 1000,
    source: "p2p",
    transferred: 250,
  });
  bus.emit("block:served", { peer: "p", narHash: "00", index: 0, bytes: 1, encoding: "raw" });
  bus.emit("gateway:request", { method: "GET", path: "/x", status: 200, flavour: "nix" });
  bus.emit("gateway:request", { method: "GET", path: "/y", status: 503, flavour: "nix" });
  const { transfers } = await getJson<{ transfers: Record<string, unknown>[] }>(
    d,
    "/api/transfers",
  );
  assertEquals(transfers.length, 1);
  assertEquals([transfers[0]!.storePath, transfers[0]!.bytes], [storePath, 250]);
  assertEquals(transfers[0]!.split, { p2p: 250, http: 0 });
  const events = await getJson<{ total: number; events: { id: number; type: string }[] }>(
    d,
    "/api/events",
  );
  assertEquals(events.events.map((e) => e.type), [
    "transfer:started",
    "transfer:source",
    "gateway:request",
  ], "progress, served blocks and successful gateway requests are aggregated, not listed");
  const after = await getJson<{ events: { id: number }[] }>(d, "/api/events?after=2");
  assertEquals(after.events.map((e) => e.id), [3]);
});

Deno.test("dashboard security: Host header, method, fetch metadata and headers", async () => {
  using d = setup().dashboard;
  for (const host of ["127.0.0.1:6880", "localhost:6880", "[::1]:6880", "127.0.0.2", "LOCALHOST"]) {
    assertEquals((await d.handle(get("/api/status", { host }))).status, 200, host);
  }
  for (
    const host of [
      "evil.example:6880",
      "127.0.0.1.evil.example",
      "192.168.1.5:6880",
      "localhost.:6880",
      "127.0.0.1:6880:1",
      "[::2]:6880",
      "",
    ]
  ) {
    const res = await d.handle(get("/api/status", { host }));
    assertEquals(res.status, 403, host);
    assertMatch(await res.text(), /IP address or localhost/);
  }
  const noHost = await d.handle(new Request("http://127.0.0.1:6880/api/status"));
  assertEquals(noHost.status, 403, "a request without a Host header is refused");
  for (const method of ["POST", "PUT", "DELETE", "HEAD"]) {
    const res = await d.handle(get("/api/status", {}, method));
    assertEquals([res.status, res.headers.get("allow")], [405, "GET"], method);
    await res.body?.cancel();
  }
  const crossApi = await d.handle(get("/api/status", { "sec-fetch-site": "cross-site" }));
  assertEquals(crossApi.status, 403, "another site cannot read the API");
  await crossApi.body?.cancel();
  const sameSite = await d.handle(get("/api/stream", { "sec-fetch-site": "same-site" }));
  assertEquals(sameSite.status, 403, "nor another port of localhost open a stream");
  await sameSite.body?.cancel();
  const nav = await d.handle(
    get("/", {
      "sec-fetch-site": "cross-site",
      "sec-fetch-mode": "navigate",
      "sec-fetch-dest": "document",
    }),
  );
  assertEquals(nav.status, 200, "a link from elsewhere may open the page");
  const html = await nav.text();
  assertEquals(nav.headers.get("content-type"), "text/html; charset=utf-8");
  assertMatch(nav.headers.get("content-security-policy")!, /script-src 'self'/);
  assertEquals(nav.headers.get("x-frame-options"), "DENY");
  assertEquals(nav.headers.get("x-content-type-options"), "nosniff");
  assertEquals(nav.headers.get("referrer-policy"), "no-referrer");
  assertEquals([...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]), [
    '<script src="/app.js" defer></script>'.replace("</script>", ""),
  ], "one external script, no inline one");
  assert(!/\sstyle=|\son[a-z]+=/.test(html), "no inline style or event handler attributes");
  const remote = setup({ loopbackOnly: false }).dashboard;
  try {
    assertEquals(
      (await remote.handle(get("/api/status", { host: "192.168.1.5:6880" }))).status,
      200,
    );
    assertEquals((await remote.handle(get("/api/status", { host: "[fd00::5]:6880" }))).status, 200);
    assertEquals((await remote.handle(get("/api/status", { host: "nas.lan:6880" }))).status, 403);
  } finally {
    remote.close();
  }
});

Deno.test("dashboard assets: script and style served; the script is valid JavaScript", async () => {
  using d = setup().dashboard;
  const js = await d.handle(get("/app.js"));
  assertEquals(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assertEquals(await js.text(), APP_JS);
  new Function(APP_JS); // throws SyntaxError if the embedded script does not parse
  assert(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(APP_JS), "no HTML sinks");
  const css = await d.handle(get("/app.css"));
  assertEquals(css.headers.get("content-type"), "text/css; charset=utf-8");
  assertMatch(await css.text(), /prefers-color-scheme: dark/);
  assertEquals((await d.handle(get("/favicon.svg"))).headers.get("content-type"), "image/svg+xml");
});

/** Reads SSE messages from a response body. */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<{ event: string; id?: string; data: unknown }> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const colon = line.indexOf(": ");
            fields[line.slice(0, colon)] = line.slice(colon + 2);
          }
          if (!fields.event) continue; // retry hint, comments
          return {
            event: fields.event,
            ...(fields.id ? { id: fields.id } : {}),
            data: JSON.parse(fields.data!),
          };
        }
        const r = await reader.read();
        if (r.done) throw new Error("stream ended");
        buffer += r.value;
      }
    },
    async nextOf(name: string) {
      for (;;) {
        const m = await this.next();
        if (m.event === name) return m;
      }
    },
    cancel: () => reader.cancel(),
  };
}

Deno.test("dashboard stream: snapshot first, then events, transfers and status pushes", async () => {
  const { bus, dashboard } = setup({ statusIntervalMs: 30, transfersIntervalMs: 10 });
  using d = dashboard;
  bus.emit("seed:added", { narHash: "sha256:x", storePath: undefined, origin: "auto" });
  const res = await d.handle(get("/api/stream"));
  assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const sse = sseReader(res);
  const snap = await sse.next();
  assertEquals(snap.event, "snapshot");
  assertEquals(snap.id, "1", "the snapshot carries the last event id");
  const s = snap.data as Record<string, { [k: string]: unknown }>;
  assertEquals(s.status, STATUS as unknown as Record<string, unknown>);
  assertEquals(s.peers!.total, 2);
  assertEquals(s.seeds!.total, 2);
  assertEquals(s.shareInfo!.state, "shareable");
  assertEquals((s.events!.events as { type: string }[]).map((e) => e.type), ["seed:added"]);
  bus.emit("peer:connected", { peer: "peerC", address: "/ip4/192.168.1.7/tcp/6881" });
  const ev = await sse.nextOf("event");
  assertEquals([ev.id, (ev.data as { type: string }).type], ["2", "peer:connected"]);
  bus.emit("transfer:started", {
    transfer: 3,
    storePath: "/gnu/store/cccccccccccccccccccccccccccccccc-x",
    narHash: "sha256:bad",
    narSize: 10,
    policy: "http-only",
  });
  const t = await sse.nextOf("transfers");
  assertEquals((t.data as { transfers: { id: number }[] }).transfers.map((x) => x.id), [3]);
  assertEquals((await sse.nextOf("status")).data, STATUS);
  assertEquals(((await sse.nextOf("peers")).data as { total: number }).total, 2);
  d.close();
  let ended = false;
  try {
    for (;;) await sse.next();
  } catch (e) {
    ended = (e as Error).message === "stream ended";
  }
  assert(ended, "close ends the stream");
});

Deno.test("dashboard stream: at most maxStreams at once", async () => {
  using d = setup({ maxStreams: 1 }).dashboard;
  const first = await d.handle(get("/api/stream"));
  const second = await d.handle(get("/api/stream"));
  assertEquals(second.status, 503);
  assertEquals(second.headers.get("retry-after"), "10");
  assertMatch((await second.json() as { error: string }).error, /too many event streams \(1\)/);
  await first.body!.cancel();
  const third = await d.handle(get("/api/stream"));
  assertEquals(third.status, 200, "a cancelled stream frees its slot");
  await third.body!.cancel();
});
