import { assertEquals } from "@std/assert";
import { multiaddr } from "@multiformats/multiaddr";
// kad-dht's own protobuf codec (not part of its public exports): what its server decodes.
import { Message } from "../../../node_modules/.deno/@libp2p+kad-dht@16.4.5/node_modules/@libp2p/kad-dht/dist/src/message/dht.js";
import { encodeAddProvider } from "./add_provider.ts";

Deno.test("encodeAddProvider writes the length-prefixed ADD_PROVIDER kad-dht's server decodes", () => {
  const key = new Uint8Array(34).map((_, i) => (i < 2 ? [0x12, 0x20][i]! : i * 7));
  const id = new Uint8Array(38).map((_, i) => i + 1);
  const addrs = [multiaddr("/ip4/10.1.2.3/tcp/4001").bytes, multiaddr("/ip6/::1/tcp/4001").bytes];
  const framed = encodeAddProvider(key, { id, addrs });
  // A one-byte varint length (the message is under 128 bytes), then the message.
  assertEquals(framed[0], framed.length - 1);
  const msg = Message.decode(framed.subarray(1));
  assertEquals(msg.type, "ADD_PROVIDER");
  assertEquals(msg.key, key);
  assertEquals(msg.closer, []);
  assertEquals(msg.providers.length, 1);
  assertEquals(msg.providers[0]!.id, id);
  assertEquals(msg.providers[0]!.multiaddrs, addrs);
  // Longer messages get a longer prefix.
  const many = encodeAddProvider(key, { id, addrs: Array(10).fill(addrs[1]!) });
  assertEquals((many[0]! & 0x7f) + (many[1]! << 7), many.length - 2);
  assertEquals(Message.decode(many.subarray(2)).providers[0]!.multiaddrs.length, 10);
});
