import { assertEquals } from "@std/assert";
import { builtinMultiaddrCheck } from "./multiaddr_check.ts";
import { multiaddr } from "@multiformats/multiaddr";

const CASES = [
  "/ip4/0.0.0.0/tcp/6881",
  "/ip4/127.0.0.1/tcp/0",
  "/ip6/::/tcp/6881",
  "/ip6/fe80::1/tcp/1",
  "/dns4/guix-p2p.example.org/tcp/443/p2p/12D3KooWDnvPgCuPTPaMbnbLpXP7kCxmXc9F7agJPuAJWXGoDNPT",
  "/ip4/10.0.0.0/ipcidr/8",
  "/ip4/1.2.3.4/udp/6881/quic-v1",
  "/ip4/1.2.3/tcp/1",
  "/ip4/256.1.1.1/tcp/1",
  "/ip4/1.2.3.4/tcp/65536",
  "/ip4/1.2.3.4/tcp",
  "/ip4/1.2.3.4/tcp/1/p2p/notapeerid",
  "hello",
  "/foo/bar",
];

Deno.test("the built-in multiaddr grammar agrees with the libp2p library on accept/reject", () => {
  for (const text of CASES) {
    const lib = (() => {
      try {
        multiaddr(text);
        return true;
      } catch {
        return false;
      }
    })();
    const ours = (() => {
      try {
        builtinMultiaddrCheck(text);
        return true;
      } catch {
        return false;
      }
    })();
    assertEquals(ours, lib, `disagreement on ${JSON.stringify(text)}`);
  }
  // Stricter than the library on purpose: an empty address is never a useful setting.
  assertEquals(
    (() => {
      try {
        builtinMultiaddrCheck("");
        return true;
      } catch {
        return false;
      }
    })(),
    false,
  );
});
