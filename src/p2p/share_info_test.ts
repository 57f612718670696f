import { assertEquals } from "@std/assert";
import { resolveConfig } from "../config/load.ts";
import { useMultiaddrLibrary } from "../config/multiaddr_check.ts";
import {
  formatShareInfo,
  isShareableAddress,
  schemeField,
  shareableAddresses,
  shareInfo,
} from "./share_info.ts";

const ID = "12D3KooWSAe54fKU8hVUdkdbFEbtxTC9EQi3zwbYoDxBEJv5mR8M";

Deno.test("isShareableAddress: loopback, unspecified and link-local are not", () => {
  for (
    const a of [
      "/ip4/127.0.0.1/tcp/6881",
      "/ip4/127.8.9.10/tcp/1",
      "/ip4/0.0.0.0/tcp/6881",
      "/ip6/::1/tcp/6881",
      "/ip6/::/tcp/6881",
      "/ip6/0:0:0:0:0:0:0:1/tcp/6881",
      "/ip6/fe80::1c2b:3aff:fe4d:5e6f/tcp/6881",
      "/dns4/localhost/tcp/6881",
      "/unix/tmp/x",
      "ip4/192.168.1.5/tcp/1",
      "",
    ]
  ) assertEquals(isShareableAddress(a), false, a);
  for (
    const a of [
      "/ip4/192.168.1.5/tcp/6881",
      "/ip4/10.0.0.2/tcp/6881",
      "/ip4/203.0.113.7/tcp/6881",
      "/ip6/2001:db8::5/tcp/6881",
      "/ip6/fd00::5/tcp/6881",
      "/dns4/nas.example.org/tcp/6881",
    ]
  ) assertEquals(isShareableAddress(a), true, a);
});

Deno.test("shareableAddresses appends /p2p/<id> once and deduplicates", () => {
  assertEquals(
    shareableAddresses([
      "/ip4/127.0.0.1/tcp/6881",
      "/ip4/192.168.1.5/tcp/6881",
      `/ip4/192.168.1.5/tcp/6881/p2p/${ID}`,
      "/dns4/nas.example.org/tcp/6881/",
    ], ID),
    [`/ip4/192.168.1.5/tcp/6881/p2p/${ID}`, `/dns4/nas.example.org/tcp/6881/p2p/${ID}`],
  );
});

Deno.test("shareInfo: a shareable node gets TOML and Scheme lines that parse back", async () => {
  const info = shareInfo({
    peerId: ID,
    addresses: ["/ip4/127.0.0.1/tcp/6881", "/ip4/192.168.1.5/tcp/6881", "/ip4/10.0.0.2/tcp/6881"],
  });
  assertEquals(info.state, "shareable");
  assertEquals(info.peerId, ID);
  const expected = [`/ip4/192.168.1.5/tcp/6881/p2p/${ID}`, `/ip4/10.0.0.2/tcp/6881/p2p/${ID}`];
  assertEquals(info.addresses, expected);
  await useMultiaddrLibrary(); // as the daemon and the CLI check bootstrap_peers
  const config = resolveConfig({
    env: { get: () => undefined },
    file: { path: "x", text: info.toml! },
  });
  assertEquals(config.bootstrap_peers, expected, "the TOML line is a valid bootstrap_peers entry");
  assertEquals(info.scheme, `(bootstrap-peers '("${expected[0]}" "${expected[1]}"))`);
  const text = formatShareInfo(info);
  assertEquals(text.includes(`  ${info.toml}`), true);
  assertEquals(text.includes(`  ${info.scheme}`), true);
});

Deno.test("shareInfo: loopback only, no address, no P2P node, no daemon", () => {
  const loop = shareInfo({ peerId: ID, addresses: ["/ip4/127.0.0.1/tcp/40000"] });
  assertEquals([loop.state, loop.toml, loop.scheme], ["no-shareable-address", null, null]);
  assertEquals(loop.detail.includes("/ip4/127.0.0.1/tcp/40000"), true, loop.detail);
  assertEquals(loop.detail.includes('listen = ["/ip4/0.0.0.0/tcp/6881"]'), true, loop.detail);
  const none = shareInfo({ peerId: ID, addresses: [] });
  assertEquals(none.state, "no-shareable-address");
  assertEquals(none.detail.includes("listen = []"), true, none.detail);
  assertEquals(shareInfo({ peerId: null, addresses: [] }).state, "no-shareable-address");
  const down = shareInfo(undefined);
  assertEquals(down.state, "daemon-not-running");
  assertEquals(formatShareInfo(down), [`daemon-not-running: ${down.detail}`]);
});

Deno.test("schemeField escapes quotes and backslashes", () => {
  assertEquals(schemeField(['a"b\\c']), `(bootstrap-peers '("a\\"b\\\\c"))`);
});
