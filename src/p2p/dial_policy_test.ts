import { assertEquals } from "@std/assert";
import { addressScope, dialDenier, type DialPolicyConfig } from "./dial_policy.ts";

const base: DialPolicyConfig = {
  dial_loopback: "auto",
  dial_allowlist: [],
  listen: ["/ip4/0.0.0.0/tcp/6881"],
  announce: [],
  bootstrap_peers: ["/ip4/198.51.100.7/tcp/6881/p2p/12D3KooWA"],
};

Deno.test("addressScope classifies loopback, link-local and unspecified hosts", () => {
  assertEquals(addressScope("/ip4/127.0.0.1/tcp/1"), "loopback");
  assertEquals(addressScope("/ip4/127.8.9.10/tcp/1"), "loopback");
  assertEquals(addressScope("/ip6/::1/tcp/1"), "loopback");
  assertEquals(addressScope("/ip6/::ffff:127.0.0.1/tcp/1"), "loopback");
  assertEquals(addressScope("/dns4/localhost/tcp/1"), "loopback");
  assertEquals(addressScope("/ip4/169.254.3.4/tcp/1"), "link-local");
  assertEquals(addressScope("/ip6/fe80::1%eth0/tcp/1"), "link-local");
  assertEquals(addressScope("/ip4/0.0.0.0/tcp/1"), "unspecified");
  assertEquals(addressScope("/ip6/::/tcp/1"), "unspecified");
  assertEquals(addressScope("/ip4/192.168.1.2/tcp/1"), "other");
  assertEquals(addressScope("/ip4/10.1.2.3/tcp/1"), "other");
  assertEquals(addressScope("/ip6/fd00::5/tcp/1"), "other");
  assertEquals(addressScope("/dns4/example.org/tcp/1"), "other");
});

Deno.test("a node on a real network does not dial loopback or link-local addresses peers advertise", () => {
  const deny = dialDenier(base);
  assertEquals(deny("/ip4/127.0.0.1/tcp/22/p2p/12D3KooWB"), true);
  assertEquals(deny("/ip6/::1/tcp/22"), true);
  assertEquals(deny("/ip4/169.254.169.254/tcp/80"), true);
  assertEquals(deny("/ip4/0.0.0.0/tcp/80"), true);
  // LAN and public addresses are dialled.
  assertEquals(deny("/ip4/192.168.1.20/tcp/6881"), false);
  assertEquals(deny("/ip4/10.0.0.3/tcp/6881"), false);
  assertEquals(deny("/ip6/fd12::3/tcp/6881"), false);
  assertEquals(deny("/ip4/198.51.100.9/tcp/6881"), false);
});

Deno.test("loopback is dialled when the node itself lives on loopback, or when configured", () => {
  assertEquals(
    dialDenier({ ...base, listen: ["/ip4/127.0.0.1/tcp/0"] })("/ip4/127.0.0.1/tcp/9"),
    false,
  );
  assertEquals(
    dialDenier({ ...base, listen: [], bootstrap_peers: ["/ip4/127.0.0.1/tcp/5/p2p/x"] })(
      "/ip4/127.0.0.1/tcp/9",
    ),
    false,
  );
  assertEquals(dialDenier({ ...base, dial_loopback: "always" })("/ip6/::1/tcp/9"), false);
  assertEquals(
    dialDenier({ ...base, listen: ["/ip4/127.0.0.1/tcp/0"], dial_loopback: "never" })(
      "/ip4/127.0.0.1/tcp/9",
    ),
    true,
  );
});

Deno.test("dial_allowlist and configured bootstrap hosts lift the rule", () => {
  const deny = dialDenier({
    ...base,
    dial_allowlist: ["/ip6/fe80::/ipcidr/10", "/ip4/169.254.10.0/ipcidr/24"],
    bootstrap_peers: ["/ip4/169.254.7.7/tcp/6881/p2p/x"],
  });
  assertEquals(deny("/ip6/fe80::abcd/tcp/1"), false);
  assertEquals(deny("/ip4/169.254.10.9/tcp/1"), false);
  assertEquals(deny("/ip4/169.254.11.9/tcp/1"), true);
  assertEquals(deny("/ip4/169.254.7.7/tcp/6881"), false);
  assertEquals(deny("/ip4/127.0.0.1/tcp/1"), true);
});
