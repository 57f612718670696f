/**
 * Hostile and broken input on the Guix substitute path: bad signatures,
 * narinfos for other paths, NarHash mismatches, hostile NARs, failing and
 * slow servers, a daemon killed mid-transfer, malformed requests, and many
 * concurrent substitutions. Everything runs for real: emulator, helper and
 * daemon processes, HTTP servers with fault injection.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { formatNarHash } from "../src/hash/nar_hash.ts";
import { sha256 } from "../src/hash/sha256.ts";
import { type FixtureItem, makeKey } from "./support/guix_cache.ts";
import { assertRestored } from "./support/tree_check.ts";
import { listDir, substituteWorld } from "./support/substitute_world.ts";
import { signGuixNarinfo } from "../src/trust/mod.ts";
import { dir, entry, nar, reg, sym } from "../src/nar/_testing.ts";
import { NAR_MAGIC } from "../src/nar/_format.ts";

const T = { sanitizeOps: false, sanitizeResources: false };
const FAST = {
  http_connect_timeout: "1s",
  http_stall_timeout: "1s",
  narinfo_error_ttl: 0,
  narinfo_negative_ttl: 0,
};

Deno.test(
  "narinfos that are not authorized for the requested path are not claimed",
  T,
  async () => {
    await using w = await substituteWorld();
    const good = await w.item("good", { f: "good\n" });
    const badSig = await w.item("bad-sig", { f: "x\n" });
    const otherKey = await w.item("other-key", { f: "y\n" });
    const wrongPath = await w.item("wrong-path", { f: "z\n" });
    const unsigned = await w.item("unsigned", { f: "u\n" });
    await w.publish("c", good);
    // One byte of the signed part changed after signing.
    await w.publish("c", badSig, {
      tamper: (t) => t.replace(/^NarSize: (\d+)/m, (_, n) => `NarSize: ${Number(n) + 1}`),
    });
    await w.publish("c", otherKey, { key: makeKey().key });
    // A correctly signed narinfo, but for another store path, served under wrongPath's hash.
    const other = await w.item("elsewhere", { f: "e\n" });
    const text = await w.publish("c", other);
    await Deno.writeTextFile(`${w.dir}/c/${wrongPath.hashPart}.narinfo`, text);
    await w.publish("c", unsigned, { tamper: (t) => t.replace(/^Signature: .*\n/m, "") });
    const server = await w.serve("c");
    await using daemon = await w.daemon([server.url], FAST);
    await using q = w.agent("query", daemon, { "substitute-urls": server.url });
    const all = [good, badSig, otherKey, wrongPath, unsigned].map((i) => i.storePath);
    assertEquals(await q.have(all), [good.storePath]);
    assertEquals((await q.info(all)).map((r) => r.path), [good.storePath]);
    await using s = w.agent("substitute", daemon, { "substitute-urls": server.url });
    const out = await s.substitute(wrongPath.storePath, wrongPath.storePath);
    assertMatch(out.status, /^failed no-substitute /);
    assertEquals(await listDir(w.store), []);
  },
);

Deno.test("a NarHash mismatch is reported as hash-mismatch and leaves no DEST", T, async () => {
  await using w = await substituteWorld();
  const real = await w.item("pkg", { data: "A".repeat(5000) });
  const liar = await w.item("pkg", { data: "B".repeat(5000) });
  // The narinfo is signed for `real`, but the server's NAR is `liar`'s (same size).
  const claimed: FixtureItem = { ...liar, narHash: real.narHash, narSize: real.narSize };
  await w.publish("c", claimed, { compressions: ["zstd", "none"] });
  const server = await w.serve("c");
  await using daemon = await w.daemon([server.url], FAST);
  await using s = w.agent("substitute", daemon);
  const out = await s.substitute(claimed.storePath, claimed.storePath);
  const expected = real.narHash.slice(7);
  const actual = liar.narHash.slice(7);
  assertEquals(out.status, `hash-mismatch sha256 ${expected} ${actual}`);
  assertEquals(await listDir(w.store), []);
});

Deno.test(
  "hostile NARs with valid signatures are rejected and nothing escapes DEST",
  T,
  async () => {
    await using w = await substituteWorld();
    const hostile: [string, Uint8Array][] = [
      ["dotdot", nar(NAR_MAGIC, ...dir(entry("..", reg("pwned"))))],
      ["slash", nar(NAR_MAGIC, ...dir(entry("a/b", reg("x"))))],
      ["through-symlink", nar(NAR_MAGIC, ...dir(entry("a", sym("..")), entry("a", reg("x"))))],
      ["unsorted", nar(NAR_MAGIC, ...dir(entry("b", reg("")), entry("a", reg(""))))],
    ];
    const items: FixtureItem[] = [];
    await Deno.mkdir(`${w.dir}/c/nar`, { recursive: true });
    for (const [name, bytes] of hostile) {
      const item = await w.item(name, { placeholder: "" });
      const fixed: FixtureItem = {
        ...item,
        narHash: formatNarHash(sha256(bytes)),
        narSize: bytes.length,
      };
      await Deno.writeFile(`${w.dir}/c/nar/${fixed.baseName}`, bytes);
      const text = signGuixNarinfo(
        {
          storePath: fixed.storePath,
          narHash: fixed.narHash,
          narSize: fixed.narSize,
          references: [],
          entries: [{ url: `nar/${fixed.baseName}`, compression: "none", fileSize: bytes.length }],
        },
        w.key.key,
        "evil",
      );
      await Deno.writeTextFile(`${w.dir}/c/${fixed.hashPart}.narinfo`, text);
      items.push(fixed);
    }
    const server = await w.serve("c");
    await using daemon = await w.daemon([server.url], FAST);
    await using s = w.agent("substitute", daemon);
    const before = await listDir(w.dir);
    for (const item of items) {
      const out = await s.substitute(item.storePath, item.storePath);
      assertMatch(out.status, /^failed bad-nar /, item.baseName);
    }
    assertEquals(await listDir(w.store), [], "no DEST and no partial tree left in the store");
    assertEquals(await listDir(w.dir), before, "nothing written next to the store");
  },
);

Deno.test(
  "failing, slow and truncating servers: next URL or server, resumed at the right offset",
  T,
  async (t) => {
    await using w = await substituteWorld();
    const item = await w.item("big", { "a.bin": 3_000_000, "b.txt": "text\n".repeat(10000) });
    await w.publish("s1", item, { compressions: ["none"] });
    await w.publish("s2", item, { compressions: ["zstd"] });
    const s1 = await w.serve("s1");
    const s2 = await w.serve("s2");
    await using daemon = await w.daemon([s1.url, s2.url], FAST);
    const settings = { "substitute-urls": `${s1.url} ${s2.url}` };
    await using s = w.agent("substitute", daemon, settings);
    const run = async (label: string, setup: () => void, expectLog: RegExp) => {
      await t.step(label, async () => {
        s1.faults.length = 0;
        setup();
        const start = performance.now();
        const out = await s.substitute(item.storePath, item.storePath, 30_000);
        assertEquals(out.status, `success ${item.narHash} ${item.narSize}`, label);
        await assertRestored(item.storePath, item.narHash);
        await daemon.waitForLog(expectLog, 5000);
        assertEquals(performance.now() - start < 15_000, true, "bounded time");
        const { forceRemove } = await import("./support/tree_check.ts");
        await forceRemove(item.storePath);
      });
    };
    await run(
      "narinfo 500 on the first server",
      () => s1.faults.push({ match: /narinfo$/, action: "status", status: 500 }),
      /fetched .* from http http:\/\/127\.0\.0\.1:\d+\/nar\/zstd/,
    );
    await run(
      "NAR 500 on the first server",
      () => s1.faults.push({ match: /\/nar\//, action: "status", status: 500, count: 1 }),
      /http \S+ failed at byte 0: .*HTTP 500/,
    );
    await run(
      "NAR headers too slow",
      () => s1.faults.push({ match: /\/nar\//, action: "slow", seconds: 3, count: 1 }),
      /failed at byte 0: .*no response headers within 1 s/,
    );
    await run(
      "NAR cut midway: resumed from the other server",
      () => s1.faults.push({ match: /\/nar\//, action: "drop", count: 1 }),
      /failed at byte [1-9]\d*: /,
    );
    await run(
      "NAR stalls midway: resumed",
      () => s1.faults.push({ match: /\/nar\//, action: "stall", seconds: 4, count: 1 }),
      /failed at byte [1-9]\d*: .*no data received for 1 s/,
    );
    await t.step(
      "every source failing: a failure status, no DEST, and the helper stays usable",
      async () => {
        s1.faults.length = 0;
        s2.faults.length = 0;
        s1.faults.push({ match: /\/nar\//, action: "drop" });
        s2.faults.push({ match: /\/nar\//, action: "status", status: 503 });
        const out = await s.substitute(item.storePath, item.storePath, 30_000);
        assertMatch(out.status, /^failed no-substitute /);
        assertEquals(await listDir(w.store), []);
        s1.faults.length = 0;
        s2.faults.length = 0;
        const again = await s.substitute(item.storePath, item.storePath, 30_000);
        assertEquals(again.status, `success ${item.narHash} ${item.narSize}`);
      },
    );
  },
);

Deno.test(
  "a daemon killed mid-transfer fails the item; the helper recovers when it is back",
  T,
  async () => {
    await using w = await substituteWorld();
    const slow = await w.item("slow", { "a.bin": 2_000_000 });
    const next = await w.item("next", { f: "after restart\n" });
    await w.publish("c", slow, { compressions: ["none"] });
    await w.publish("c", next, { compressions: ["zstd"] });
    const server = await w.serve("c");
    server.faults.push({ match: /\/nar\/.*-slow$/, action: "trickle", bytesPerSecond: 200_000 });
    const settings = { ...FAST, http_stall_timeout: "10s" };
    const daemon = await w.daemon([server.url], settings);
    await using s = w.agent("substitute", daemon);
    await s.send(`substitute ${slow.storePath} ${slow.storePath}`);
    await s.waitForLog(/^@ download-started|^Downloading/);
    await daemon.kill();
    const out = await s.readStatus(30_000);
    assertMatch(out.status, /^failed daemon-unavailable /);
    assertEquals(await listDir(w.store), []);
    await using _again = await w.daemon([server.url], settings);
    const ok = await s.substitute(next.storePath, next.storePath);
    assertEquals(ok.status, `success ${next.narHash} ${next.narSize}`);
  },
);

Deno.test("malformed requests get a clear error and never crash the helper", T, async () => {
  await using w = await substituteWorld();
  const item = await w.item("fine", { f: "fine\n" });
  await w.publish("c", item);
  const server = await w.serve("c");
  await using daemon = await w.daemon([server.url], FAST);
  await using s = w.agent("substitute", daemon);
  for (
    const [line, re] of [
      ["frobnicate", /^failed bad-request malformed request "frobnicate"/],
      ["substitute /etc/passwd /etc/passwd", /^failed bad-request not in the store directory/],
      [
        `substitute ${item.storePath} /tmp/elsewhere`,
        /^failed bad-request refusing destination "\/tmp\/elsewhere"/,
      ],
      [`substitute ${item.storePath}`, /^failed bad-request malformed request/],
      [
        `substitute ${w.store}/${"e".repeat(32)}-x ${w.store}/${"e".repeat(32)}-x`,
        /^failed bad-request store path hash part is not nix32/,
      ],
    ] as const
  ) {
    await s.send(line);
    const out = await s.readStatus();
    assertMatch(out.status, re, line);
  }
  assertEquals(
    (await s.substitute(item.storePath, item.storePath)).status,
    `success ${item.narHash} ${item.narSize}`,
  );
  await using q = w.agent("query", daemon);
  for (
    const line of [
      "have not-a-store-path ",
      "info ",
      "bogus request",
      `have ${w.store}/../etc/passwd `,
    ]
  ) {
    await q.send(line);
    assertEquals(await q.readReply(), [], line);
  }
  assertEquals(await q.have([item.storePath]), [item.storePath]);
  await q.waitForLog(/unknown query command "bogus"/);
  await q.waitForLog(/not in the store directory|contains "\/"/);
});

Deno.test("50 concurrent substitutions all succeed", T, async () => {
  await using w = await substituteWorld();
  const items: FixtureItem[] = [];
  for (let i = 0; i < 50; i++) {
    const item = await w.item(`pkg-${i}`, {
      [`share/${i}.txt`]: `item ${i}\n`.repeat(100 + i),
      "bin/x": 20_000 + i,
    });
    await w.publish("c", item, { compressions: i % 2 ? ["zstd"] : ["gzip", "none"] });
    items.push(item);
  }
  const server = await w.serve("c");
  await using daemon = await w.daemon([server.url]);
  const outcomes = await Promise.all(items.map(async (item) => {
    await using s = w.agent("substitute", daemon);
    return (await s.substitute(item.storePath, item.storePath, 120_000)).status;
  }));
  assertEquals(outcomes, items.map((i) => `success ${i.narHash} ${i.narSize}`));
  for (const item of items) await assertRestored(item.storePath, item.narHash);
});
