import { assertEquals } from "@std/assert";
import { independentOrigins, networkOf } from "./origins.ts";

Deno.test("networks of peer addresses: /24, /48, nothing for relayed or other addresses", () => {
  assertEquals(networkOf("/ip4/192.168.1.20/tcp/6881"), "ip4:192.168.1");
  assertEquals(networkOf("/ip4/192.168.1.99/tcp/1"), "ip4:192.168.1");
  assertEquals(networkOf("/ip4/127.0.0.1/tcp/40000/p2p/12D3KooWabc"), "ip4:127.0.0");
  assertEquals(networkOf("/ip6/2001:db8:1:2::5/tcp/6881"), "ip6:2001:db8:1");
  assertEquals(networkOf("/ip6/2001:0db8:0001:ffff::1/tcp/6881"), "ip6:2001:db8:1");
  assertEquals(networkOf("/ip6/::1/tcp/6881"), "ip6:0:0:0");
  assertEquals(networkOf("/ip4/1.2.3.4/tcp/1/p2p/QmRelay/p2p-circuit/p2p/QmX"), undefined);
  assertEquals(networkOf("/dns4/example.org/tcp/1"), undefined);
  assertEquals(networkOf("/ip6/1::2::3/tcp/1"), undefined);
});

Deno.test("two identities on one network are one origin; unknown networks count for nothing", () => {
  assertEquals(independentOrigins(["ip4:127.0.0", "ip4:127.0.0"]), 1);
  assertEquals(independentOrigins(["ip4:10.0.0", "ip4:10.0.1", undefined]), 2);
  assertEquals(independentOrigins([undefined, undefined]), 0);
});
