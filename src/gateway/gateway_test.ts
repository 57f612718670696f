/**
 * `Gateway.handle` as a `(Request) => Response` function, without a socket:
 * narinfos come from a pre-filled narinfo cache (the resolver asks no server),
 * NARs from an in-memory peer source, trust from real keys.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { resolveConfig } from "../config/load.ts";
import type { FlavourTrust } from "../fetch/flavour.ts";
import { memoryFlavour } from "../fetch/_testing.ts";
import { formatNarHash, sha256 } from "../hash/mod.ts";
import { formatNixNarinfo, type NarinfoContent } from "../narinfo/mod.ts";
import { memoryNarSource, narStream } from "../nar/mod.ts";
import { nix32Encode } from "../encoding/nix32.ts";
import {
  Acl,
  aclFromKeys,
  generateGuixKey,
  nixSecretKeyFromSeed,
  signGuixNarinfo,
  signNixNarinfo,
} from "../trust/mod.ts";
import { Gateway, type GatewayEvents } from "./gateway.ts";

const HASH = "0123456789abcdfghijklmnpqrsvwxyz";
const UPSTREAM = "https://upstream.invalid";
const NIX_KEY = nixSecretKeyFromSeed("gw-test-1", new Uint8Array(32).fill(3));
const GUIX_KEY = generateGuixKey();

const NAR = new Uint8Array(
  await new Response(narStream(
    memoryNarSource({ kind: "regular", contents: new TextEncoder().encode("hello ".repeat(500)) }),
    "/",
  )).arrayBuffer(),
);
const NAR_HASH = formatNarHash(sha256(NAR));

function content(storeDir: string): NarinfoContent {
  return {
    storePath: `${storeDir}/${HASH}-hello-2.12`,
    narHash: NAR_HASH,
    narSize: NAR.length,
    references: [],
    entries: [{ url: `nar/zstd/${HASH}-hello-2.12`, compression: "zstd" }],
  };
}

function nixNarinfo(key = NIX_KEY): string {
  const info = content("/nix/store");
  return formatNixNarinfo({ ...info, sigs: [signNixNarinfo(info, key)] });
}

function guixNarinfo(): string {
  return signGuixNarinfo(content("/gnu/store"), GUIX_KEY, "test-host");
}

async function gateway(
  options: { nix?: string; guix?: string; acl?: Acl; peers?: Uint8Array } = {},
) {
  const config = resolveConfig({
    env: { get: () => undefined },
    overrides: [
      { key: "policy", value: "p2p-only", flag: "-" },
      { key: "substitute_urls", value: [UPSTREAM], flag: "-" },
      { key: "nix_upstream_urls", value: [UPSTREAM], flag: "-" },
      { key: "nix_trusted_public_keys", value: [NIX_KEY.publicKey.format()], flag: "-" },
    ],
  });
  const events: GatewayEvents["gateway:request"][] = [];
  const side = (trust: FlavourTrust, text: string | undefined) =>
    memoryFlavour(trust, {
      upstream: UPSTREAM,
      narinfos: text ? { [HASH]: text } : {},
      peers: options.peers ?? NAR,
    });
  const acl = options.acl ?? aclFromKeys([GUIX_KEY.publicKey]);
  const gw = new Gateway({
    config,
    nix: await side(
      { flavour: "nix", storeDir: "/nix/store", keys: [NIX_KEY.publicKey] },
      options.nix,
    ),
    guix: await side(
      { flavour: "guix", storeDir: "/gnu/store", acl: () => Promise.resolve(acl) },
      options.guix,
    ),
    emit: (type, payload) => {
      if (type === "gateway:request") events.push(payload as GatewayEvents["gateway:request"]);
    },
  });
  return { gw, events, config };
}

const GUILE = { "user-agent": "GNU Guile" };
const narUrl = `http://gw/nar/${HASH}/${nix32Encode(sha256(NAR))}.nar`;

Deno.test("gateway: nix-cache-info names each flavour's store; other methods are refused", async () => {
  const { gw, config } = await gateway();
  const nix = await gw.handle(new Request("http://gw/nix-cache-info"));
  assertEquals(nix.status, 200);
  assertStringIncludes(await nix.text(), "StoreDir: /nix/store\n");
  for (
    const req of [
      new Request("http://gw/guix/nix-cache-info"),
      new Request("http://gw/nix-cache-info", { headers: GUILE }),
    ]
  ) {
    const r = await gw.handle(req);
    assertEquals(
      await r.text(),
      `StoreDir: /gnu/store\nWantMassQuery: 1\nPriority: ${config.gateway_priority}\n`,
    );
  }
  const post = await gw.handle(new Request("http://gw/nix-cache-info", { method: "POST" }));
  assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
  assertEquals((await gw.handle(new Request("http://gw/nowhere"))).status, 404);
});

Deno.test("gateway: a trusted Nix narinfo is served rewritten to the gateway's own NAR", async () => {
  const { gw } = await gateway({ nix: nixNarinfo() });
  const r = await gw.handle(new Request(`http://gw/${HASH}.narinfo`));
  assertEquals([r.status, r.headers.get("content-type")], [200, "text/x-nix-narinfo"]);
  const text = await r.text();
  assertStringIncludes(text, `StorePath: /nix/store/${HASH}-hello-2.12\n`);
  assertStringIncludes(text, `URL: nar/${HASH}/${nix32Encode(sha256(NAR))}.nar\n`);
  assertStringIncludes(text, "Compression: none\n");
  assertStringIncludes(text, `Sig: ${nixNarinfo().match(/Sig: (.*)/)![1]}\n`);
});

Deno.test("gateway: an untrusted narinfo is a 404 whose log detail says why, both flavours", async () => {
  const stranger = nixSecretKeyFromSeed("stranger-1", new Uint8Array(32).fill(9));
  const nix = await gateway({ nix: nixNarinfo(stranger) });
  assertEquals((await nix.gw.handle(new Request(`http://gw/${HASH}.narinfo`))).status, 404);
  assertStringIncludes(nix.events.at(-1)!.detail!, "unknown key: no signature by a trusted key");

  const guix = await gateway({ guix: guixNarinfo(), acl: new Acl([]) });
  const r = await guix.gw.handle(new Request(`http://gw/guix/${HASH}.narinfo`));
  assertEquals(r.status, 404);
  assertEquals(guix.events.at(-1)!.flavour, "guix");
  assertStringIncludes(guix.events.at(-1)!.detail!, "which is not in the ACL");
});

Deno.test("gateway: a Guix narinfo signed by an ACL key is served to Guile clients", async () => {
  const { gw } = await gateway({ guix: guixNarinfo() });
  const r = await gw.handle(new Request(`http://gw/${HASH}.narinfo`, { headers: GUILE }));
  assertEquals([r.status, r.headers.get("content-type")], [200, "application/x-nix-narinfo"]);
  const text = await r.text();
  assertStringIncludes(text, `StorePath: /gnu/store/${HASH}-hello-2.12\n`);
  assertStringIncludes(text, "Signature: 1;test-host;");
});

Deno.test("gateway: the NAR comes whole, from an offset with Range, and HEAD has no body", async () => {
  const { gw } = await gateway({ nix: nixNarinfo() });
  const whole = await gw.handle(new Request(narUrl));
  assertEquals([whole.status, whole.headers.get("content-length")], [200, String(NAR.length)]);
  assertEquals(new Uint8Array(await whole.arrayBuffer()), NAR);

  const ranged = await gw.handle(new Request(narUrl, { headers: { range: "bytes=100-" } }));
  assertEquals(ranged.status, 206);
  assertEquals(ranged.headers.get("content-range"), `bytes 100-${NAR.length - 1}/${NAR.length}`);
  assertEquals(new Uint8Array(await ranged.arrayBuffer()), NAR.subarray(100));

  const head = await gw.handle(new Request(narUrl, { method: "HEAD" }));
  assertEquals([head.status, head.body], [200, null]);
  assertEquals(head.headers.get("content-length"), String(NAR.length));

  const bad = await gw.handle(new Request(narUrl, { headers: { range: "bytes=99999-" } }));
  assertEquals([bad.status, bad.headers.get("content-range")], [416, `bytes */${NAR.length}`]);
  const stale = await gw.handle(new Request(`http://gw/nar/${HASH}/${"0".repeat(52)}.nar`));
  assertEquals(stale.status, 404);
  assertStringIncludes(await stale.text(), "stale NAR URL");
});

Deno.test("gateway: bytes that do not match the NarHash never make a complete body", async () => {
  const wrong = NAR.slice();
  wrong[wrong.length - 100] = wrong[wrong.length - 100]! ^ 1;
  const { gw } = await gateway({ nix: nixNarinfo(), peers: wrong });
  const r = await gw.handle(new Request(narUrl));
  assertEquals(r.status, 200);
  const received: Uint8Array[] = [];
  await assertRejects(async () => {
    for await (const chunk of r.body!) received.push(chunk);
  });
  const total = received.reduce((n, c) => n + c.length, 0);
  assert(total < NAR.length, `${total} of ${NAR.length} bytes were sent`);
});
