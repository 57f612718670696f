/**
 * `DaemonHandler` as the daemon's answer to each control request, without a
 * socket: narinfos from a pre-filled narinfo cache, NARs from an in-memory
 * peer source, the ACL from a real key, P2P through a recording PeerIndex.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { resolveConfig } from "../config/load.ts";
import type { Request } from "../control/messages.ts";
import type { SignedFetch } from "../control/server.ts";
import { concatBytes } from "../encoding/bytes.ts";
import { EventBus } from "../events/bus.ts";
import { memoryFlavour } from "../fetch/_testing.ts";
import type { PeerIndex, PeerIndexItem } from "../fetch/peers.ts";
import type { FetchSink } from "../fetch/types.ts";
import { formatNarHash, sha256 } from "../hash/mod.ts";
import { memoryNarSource, narStream } from "../nar/mod.ts";
import { formatGuixNarinfo, type NarinfoContent } from "../narinfo/mod.ts";
import { StorePathError } from "../store/mod.ts";
import { aclFromKeys, generateGuixKey, signGuixNarinfo } from "../trust/mod.ts";
import { BadRequestError } from "./error_map.ts";
import type { DaemonEvents } from "./events.ts";
import { type AdminExtension, DaemonHandler } from "./handler.ts";

const UPSTREAM = "https://upstream.invalid";
const KEY = generateGuixKey();
const SIGNED = "0123456789abcdfghijklmnpqrsvwxyz";
const UNSIGNED = "1123456789abcdfghijklmnpqrsvwxyz";
const path = (hash: string) => `/gnu/store/${hash}-hello-2.12`;
const NAR = new Uint8Array(
  await new Response(narStream(
    memoryNarSource({ kind: "regular", contents: new Uint8Array(3000).fill(7) }),
    "/",
  )).arrayBuffer(),
);
const NAR_HASH = formatNarHash(sha256(NAR));

function content(hash: string): NarinfoContent {
  return {
    storePath: path(hash),
    narHash: NAR_HASH,
    narSize: NAR.length,
    references: [],
    entries: [{ url: `nar/zstd/${hash}-hello-2.12`, compression: "zstd" }],
  };
}

/** What the P2P layer was asked. */
class RecordingPeers implements PeerIndex {
  readonly asked: { items: string[]; dht: boolean }[] = [];
  readonly prefetched: string[][] = [];
  constructor(readonly counts: number[] = []) {}
  providers(items: PeerIndexItem[], options: { dht: boolean }): Promise<number[]> {
    this.asked.push({ items: items.map((i) => i.storePath), dht: options.dht });
    return Promise.resolve(items.map((_, i) => this.counts[i] ?? 0));
  }
  prefetch(items: PeerIndexItem[]): void {
    this.prefetched.push(items.map((i) => i.storePath));
  }
  mismatch(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

async function handler(
  options: {
    peers?: RecordingPeers;
    nar?: Uint8Array;
    admin?: AdminExtension;
    onSubstituted?: () => Promise<void>;
  } = {},
) {
  const config = resolveConfig({
    env: { get: () => undefined },
    overrides: [{ key: "substitute_urls", value: [UPSTREAM], flag: "-" }],
  });
  const bus = new EventBus<DaemonEvents>();
  const acl = aclFromKeys([KEY.publicKey]);
  const guix = await memoryFlavour(
    { flavour: "guix", storeDir: "/gnu/store", acl: () => Promise.resolve(acl) },
    {
      upstream: UPSTREAM,
      narinfos: {
        [SIGNED]: signGuixNarinfo(content(SIGNED), KEY, "test-host"),
        [UNSIGNED]: formatGuixNarinfo(content(UNSIGNED)),
      },
      peers: options.nar ?? NAR,
    },
  );
  const h = new DaemonHandler({
    config,
    guix,
    bus,
    ...(options.peers ? { peers: options.peers } : {}),
    ...(options.admin ? { admin: options.admin } : {}),
    ...(options.onSubstituted ? { onSubstituted: options.onSubstituted } : {}),
  });
  return { h, bus, config };
}

const ctx = () => ({ signal: new AbortController().signal });
const lookup = (
  storePaths: string[],
  policy?: "p2p-only",
): Extract<Request, { kind: "lookup" }> => ({
  kind: "lookup",
  id: 1,
  storePaths,
  ...(policy ? { policy } : {}),
});
const fetchReq = (): SignedFetch => ({
  kind: "fetch",
  id: 2,
  storePath: path(SIGNED),
  narHash: NAR_HASH,
  narSize: NAR.length,
  policy: "p2p-only",
});

Deno.test("handler: lookup finds what the ACL authorizes, says why not for the rest, and hands the found to the peers", async () => {
  const peers = new RecordingPeers();
  const { h, bus } = await handler({ peers });
  const done = bus.once("lookup:done", { timeoutMs: 5000 });
  const items = await h.lookup(lookup([path(SIGNED), path(UNSIGNED)]), ctx());
  assertEquals(items[0], {
    kind: "found",
    storePath: path(SIGNED),
    narinfo: signGuixNarinfo(content(SIGNED), KEY, "test-host"),
    cacheUrl: UPSTREAM,
  });
  assert(items[1]?.kind === "missing");
  assertStringIncludes(items[1].reason, `${UPSTREAM}: unsigned: no Signature field`);
  assertEquals(peers.prefetched, [[path(SIGNED)]]);
  assertEquals(peers.asked, [], "p2p-first asks no provider count");
  assertEquals([(await done).paths, (await done).found], [2, 1]);
});

Deno.test("handler: under p2p-only, an item with fewer providers than min_providers is missing", async () => {
  for (const [count, kind] of [[0, "missing"], [2, "found"]] as const) {
    const peers = new RecordingPeers([count]);
    const { h } = await handler({ peers });
    const [item] = await h.lookup(lookup([path(SIGNED)], "p2p-only"), ctx());
    assertEquals(item?.kind, kind);
    if (item?.kind === "missing") {
      assertEquals(item.reason, "p2p-only: 0 provider(s), 1 needed");
    } else assertEquals(item?.providers, 2);
    assertEquals(peers.asked, [{ items: [path(SIGNED)], dht: true }]);
  }
});

Deno.test("handler: fetch streams the NAR into the sink, listed as a transfer while it runs", async () => {
  const { h } = await handler();
  const sources: string[] = [];
  const chunks: Uint8Array[] = [];
  let during: ReturnType<DaemonHandler["transfers"]> = [];
  const sink: FetchSink = {
    source: (info) => {
      sources.push(`${info.source} ${info.url} ${info.offset}`);
      return Promise.resolve();
    },
    progress: () => Promise.resolve(),
    data: (bytes) => {
      chunks.push(bytes.slice());
      during = h.transfers();
      return Promise.resolve();
    },
  };
  assertEquals(await h.fetch(fetchReq(), sink, ctx()), NAR.length);
  assertEquals(sources, ["p2p memory-peer 0"]);
  assertEquals(concatBytes(chunks), NAR);
  assertEquals(during.map((t) => [t.storePath, t.narSize]), [[path(SIGNED), NAR.length]]);
  assertEquals(h.transfers(), []);
});

Deno.test("handler: a NarHash mismatch after the last byte ends the stream (the helper checks), a short one fails", async () => {
  const sink: FetchSink = {
    source: () => Promise.resolve(),
    progress: () => Promise.resolve(),
    data: () => Promise.resolve(),
  };
  const wrong = NAR.slice();
  wrong[10] = wrong[10]! ^ 1;
  assertEquals(await (await handler({ nar: wrong })).h.fetch(fetchReq(), sink, ctx()), NAR.length);
  const short = NAR.subarray(0, NAR.length - 8);
  await assertRejects(() =>
    handler({ nar: short }).then(({ h }) => h.fetch(fetchReq(), sink, ctx()))
  );
});

Deno.test("handler: a substitution is recorded; an auto-seed that fails is a warning", async () => {
  const { h, bus } = await handler({ onSubstituted: () => Promise.reject(new Error("disk full")) });
  const recorded = bus.once("substitution:recorded", { timeoutMs: 5000 });
  const warning = bus.once("daemon:warning", { timeoutMs: 5000 });
  await h.substituted({
    kind: "substituted",
    id: 3,
    storePath: path(SIGNED),
    narHash: NAR_HASH,
    narSize: NAR.length,
    source: "http",
  });
  assertEquals((await recorded).storePath, path(SIGNED));
  assertEquals((await warning).message, `auto-seeding ${path(SIGNED)}: disk full`);
});

Deno.test("handler: admin answers status and transfers itself, P2P commands only with the P2P layer", async () => {
  const plain = (await handler()).h;
  const status = await plain.admin("status", []) as Record<string, unknown>;
  assertEquals([status.storeDir, status.p2p, status.activeTransfers], ["/gnu/store", null, []]);
  assertEquals(await plain.admin("transfers", []), []);
  await assertRejects(
    () => plain.admin("peers", []),
    BadRequestError,
    '"peers" needs the peer-to-peer layer, which is not running',
  );
  const withP2p = (await handler({
    admin: (command) =>
      command === "peers" || command === "status" ? Promise.resolve({ n: 3 }) : undefined,
  })).h;
  assertEquals(await withP2p.admin("peers", []), { n: 3 });
  assertEquals((await withP2p.admin("status", []) as Record<string, unknown>).p2p, { n: 3 });
});

Deno.test("handler: a path outside the store is refused before anything is asked", async () => {
  const peers = new RecordingPeers();
  const { h } = await handler({ peers });
  await assertRejects(() => h.lookup(lookup(["/nix/store/x-y"]), ctx()), StorePathError);
  await assertRejects(
    () => h.fetch({ ...fetchReq(), narHash: "sha256:nope" }, {} as FetchSink, ctx()),
  );
  assertEquals([peers.asked, peers.prefetched], [[], []]);
});

Deno.test("handler: a fetch or a report naming another NarHash or size than the signed narinfo is refused", async () => {
  const { h } = await handler();
  const sink = {
    source: () => Promise.reject(new Error("must not start")),
    progress: () => Promise.resolve(),
    data: () => Promise.reject(new Error("must not send")),
  } as FetchSink;
  const other = formatNarHash(sha256(new Uint8Array([1, 2, 3])));
  await assertRejects(
    () => h.fetch({ ...fetchReq(), narHash: other }, sink, ctx()),
    BadRequestError,
    "is not the NarHash and NarSize of its signed narinfo",
  );
  await assertRejects(
    () => h.fetch({ ...fetchReq(), narSize: NAR.length + 1 }, sink, ctx()),
    BadRequestError,
    "is not the NarHash and NarSize of its signed narinfo",
  );
  await assertRejects(
    () =>
      h.substituted({
        kind: "substituted",
        id: 9,
        storePath: path(SIGNED),
        narHash: other,
        narSize: 3,
        source: "p2p",
      }),
    BadRequestError,
  );
  await assertRejects(
    () => h.fetch({ ...fetchReq(), storePath: path(UNSIGNED) }, sink, ctx()),
    BadRequestError,
    "no signed narinfo",
  );
});
