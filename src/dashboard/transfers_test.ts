import { assertEquals } from "@std/assert";
import { hexEncode } from "../encoding/hex.ts";
import { formatNarHash } from "../hash/nar_hash.ts";
import { TransferTracker } from "./transfers.ts";

const digest = new Uint8Array(32).fill(7);
const NAR_HASH = formatNarHash(digest);
const HEX = hexEncode(digest);
const PATH = "/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello-2.12";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

Deno.test("TransferTracker: progress, rate, per-source split and per-peer bytes", () => {
  const c = clock();
  const tr = new TransferTracker({ now: c.now });
  tr.handle("transfer:started", {
    transfer: 1,
    storePath: PATH,
    narHash: NAR_HASH,
    narSize: 1000,
    policy: "p2p-first",
  });
  assertEquals(tr.list()[0]!.state, "active");
  assertEquals(tr.list()[0]!.bytes, 0);
  tr.handle("transfer:source", { transfer: 1, source: "p2p", url: "p2p://x", offset: 0 });
  c.advance(1000);
  tr.handle("transfer:progress", {
    transfer: 1,
    bytes: 400,
    narSize: 1000,
    source: "p2p",
    transferred: 400,
  });
  tr.handle("download:block", { narHash: HEX, peer: "peerA", index: 0, wireBytes: 300 });
  tr.handle("download:whole", { narHash: HEX, peer: "peerB", bytes: 100, wireBytes: 100 });
  tr.handle("download:block", { narHash: "00", peer: "peerC", index: 1, wireBytes: 100 });
  let v = tr.list()[0]!;
  assertEquals([v.bytes, v.rate, v.source], [400, 400, "p2p"]);
  assertEquals(v.split, { p2p: 400, http: 0 });
  assertEquals(v.peers, [{ peer: "peerA", bytes: 300 }, { peer: "peerB", bytes: 100 }]);
  // The peers stall at byte 400; HTTP takes over from there.
  tr.handle("transfer:source-failed", {
    transfer: 1,
    source: "p2p",
    url: "p2p://x",
    offset: 400,
    error: "stalled",
  });
  tr.handle("transfer:source", { transfer: 1, source: "http", url: "http://c/nar", offset: 400 });
  c.advance(1000);
  tr.handle("transfer:progress", {
    transfer: 1,
    bytes: 900,
    narSize: 1000,
    source: "http",
    transferred: 500,
  });
  v = tr.list()[0]!;
  assertEquals(v.split, { p2p: 400, http: 500 });
  assertEquals(v.sources.map((s) => [s.source, s.bytes]), [["p2p", 400], ["http", 500]]);
  assertEquals(v.rate, 0.7 * 400 + 0.3 * 500);
  c.advance(500);
  tr.handle("transfer:done", {
    transfer: 1,
    storePath: PATH,
    narHash: NAR_HASH,
    bytes: 1000,
    durationMs: 2500,
    sources: [
      { source: "p2p", url: "p2p://x", bytes: 400, transferred: 400 },
      { source: "http", url: "http://c/nar", bytes: 600, transferred: 600 },
    ],
  });
  v = tr.list()[0]!;
  assertEquals([v.state, v.bytes, v.rate, v.endedAt], ["done", 1000, 400, 1_002_500]);
  assertEquals(v.split, { p2p: 400, http: 600 });
  assertEquals(v.peers.length, 2, "the per-peer split stays with the finished transfer");
});

Deno.test("TransferTracker: a source restarting from byte 0 forgets the earlier bytes", () => {
  const tr = new TransferTracker();
  tr.handle("transfer:started", {
    transfer: 5,
    storePath: PATH,
    narHash: NAR_HASH,
    narSize: 100,
    policy: "p2p-first",
  });
  tr.handle("transfer:source", { transfer: 5, source: "p2p", url: "p2p://x", offset: 0 });
  tr.handle("transfer:progress", {
    transfer: 5,
    bytes: 100,
    narSize: 100,
    source: "p2p",
    transferred: 100,
  });
  tr.handle("transfer:source", { transfer: 5, source: "http", url: "http://c", offset: 0 });
  const v = tr.list()[0]!;
  assertEquals(v.split, { p2p: 0, http: 0 });
  assertEquals(v.sources.map((s) => s.source), ["http"]);
  tr.handle("transfer:failed", { transfer: 5, storePath: PATH, error: "no source" });
  assertEquals([tr.list()[0]!.state, tr.list()[0]!.error], ["failed", "no source"]);
});

Deno.test("TransferTracker: bounded active and finished lists; unknown events ignored", () => {
  const tr = new TransferTracker({ maxActive: 3, keepFinished: 2 });
  for (let i = 1; i <= 5; i++) {
    tr.handle("transfer:started", {
      transfer: i,
      storePath: PATH,
      narHash: "not a nar hash",
      narSize: 10,
      policy: "http-only",
    });
  }
  assertEquals(tr.list().map((t) => t.id), [3, 4, 5]);
  for (const i of [3, 4, 5]) {
    tr.handle("transfer:failed", { transfer: i, storePath: PATH, error: "x" });
  }
  assertEquals(tr.list().map((t) => t.id), [5, 4], "newest finished first, two kept");
  assertEquals(tr.handle("transfer:progress", { transfer: 99, bytes: 1 }), false);
  assertEquals(tr.handle("peer:connected", { peer: "p" }), false);
});
