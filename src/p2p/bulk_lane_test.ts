import { assertEquals } from "@std/assert";
import { bulkLaneAllowed, hostOfConnection, normalizeIp } from "./bulk_lane.ts";

Deno.test("the bulk lane is used on direct local-network TCP connections unless turned off", () => {
  const lan = [
    "/ip4/127.0.0.1/tcp/4001",
    "/ip4/10.1.2.3/tcp/4001/p2p/12D3KooWA",
    "/ip4/172.20.0.5/tcp/1",
    "/ip4/192.168.1.9/tcp/1",
    "/ip4/169.254.3.4/tcp/1",
    "/ip6/fd00::1/tcp/1",
    "/ip6/fe80::1/tcp/1",
    "/ip6/::1/tcp/1",
    "/ip6/::ffff:192.168.0.2/tcp/1",
  ];
  const wan = ["/ip4/8.8.8.8/tcp/1", "/ip4/172.32.0.1/tcp/1", "/ip6/2001:db8::1/tcp/1"];
  for (const a of lan) assertEquals(bulkLaneAllowed("lan", a), true, a);
  for (const a of wan) assertEquals(bulkLaneAllowed("lan", a), false, a);
  for (const a of wan) assertEquals(bulkLaneAllowed("always", a), true, a);
  for (const a of lan) assertEquals(bulkLaneAllowed("off", a), false, a);
  const relayed = "/ip4/10.0.0.1/tcp/1/p2p/12D3KooWR/p2p-circuit/p2p/12D3KooWB";
  assertEquals(bulkLaneAllowed("always", relayed), false, "never through a relay");
  assertEquals(bulkLaneAllowed("always", "/ip4/10.0.0.1/udp/1/quic-v1"), false, "TCP only");
});

Deno.test("both ends compare addresses the same way", () => {
  assertEquals(hostOfConnection("/ip4/10.0.0.7/tcp/4001/p2p/X"), "10.0.0.7");
  assertEquals(hostOfConnection("/ip6/FE80::1%eth0/tcp/1"), "fe80::1");
  assertEquals(hostOfConnection("/dns4/example.org/tcp/1"), undefined);
  assertEquals(normalizeIp("::ffff:10.0.0.7"), "10.0.0.7");
});
