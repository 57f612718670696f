import { assertEquals } from "@std/assert";
import { isPublicAddress, reachability } from "./reachability.ts";

const NOW = 1_000_000;

Deno.test("only private or loopback addresses: private", () => {
  const r = reachability([
    { multiaddr: "/ip4/127.0.0.1/tcp/6881", verified: true, expires: 0 },
    { multiaddr: "/ip4/192.168.1.5/tcp/6881", verified: true, expires: 0 },
    { multiaddr: "/ip4/203.0.113.9/tcp/6881", verified: false, expires: 0 },
  ], NOW);
  assertEquals(r, { reachability: "private", publicAddresses: [], unconfirmed: [] });
});

Deno.test("a public address: unknown until confirmed, public once confirmed", () => {
  const addr = "/ip4/11.0.0.2/tcp/6881";
  assertEquals(
    reachability([{ multiaddr: addr, verified: false, expires: 0 }], NOW).reachability,
    "unknown",
  );
  assertEquals(reachability([{ multiaddr: addr, verified: true, expires: NOW + 1 }], NOW), {
    reachability: "public",
    publicAddresses: [addr],
    unconfirmed: [],
  });
});

Deno.test("public addresses AutoNAT could not reach: private until the retry time", () => {
  const addr = "/ip4/11.0.0.2/tcp/6881";
  const failed = [{ multiaddr: addr, verified: false, expires: NOW + 300_000 }];
  assertEquals(reachability(failed, NOW).reachability, "private");
  assertEquals(reachability(failed, NOW + 300_001).reachability, "unknown");
});

Deno.test("relayed addresses never count as public", () => {
  const relayed = "/ip4/11.0.0.2/tcp/6881/p2p/12D3KooWA/p2p-circuit/p2p/12D3KooWB";
  assertEquals(isPublicAddress(relayed), false);
  assertEquals(
    reachability([{ multiaddr: relayed, verified: true, expires: 0 }], NOW).reachability,
    "private",
  );
  assertEquals(isPublicAddress("/ip6/2a01:4f8::1/tcp/1"), true);
  assertEquals(isPublicAddress("/ip6/fe80::1/tcp/1"), false);
  assertEquals(isPublicAddress("/dns4/example.org/tcp/1"), false);
});
