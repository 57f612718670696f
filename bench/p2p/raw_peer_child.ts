/**
 * The raw libp2p baseline of the P2P benchmarks: one Deno process per side,
 * the daemon's transport stack (TCP + Noise + Yamux, no other service) and
 * no protocol of ours: the server writes `--bytes` bytes (64 KiB sends, the
 * same buffer every time: no generation cost) on every stream of
 * `/guix-p2p-bench/raw/1.0.0`; the client opens one stream, reads to the end
 * and prints one JSON line `{ bytes, ms }` (from the stream opening to the
 * last byte).
 *
 * Usage (the benchmarks spawn it):
 * `deno run -A bench/p2p/raw_peer_child.ts server --bytes N` (prints `listening <multiaddr>`),
 * `deno run -A bench/p2p/raw_peer_child.ts client <multiaddr>`.
 *
 * @module
 */
import { applyDenoLibp2pPatches } from "../../src/p2p/runtime_patches.ts";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { parseFlags } from "../../src/std/cli.ts";

const PROTOCOL = "/guix-p2p-bench/raw/1.0.0";
const { flags, positionals } = parseFlags(Deno.args, { string: ["bytes"] });
const role = positionals[0];

applyDenoLibp2pPatches();
const node = await createLibp2p({
  addresses: { listen: role === "server" ? ["/ip4/127.0.0.1/tcp/0"] : [] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { allow: ["/ip4/127.0.0.0/ipcidr/8"] },
});

if (role === "server") {
  const total = Number(flags.bytes ?? 2 ** 30);
  const chunk = crypto.getRandomValues(new Uint8Array(64 * 1024));
  await node.handle(PROTOCOL, async (stream) => {
    for (let sent = 0; sent < total; sent += chunk.length) {
      const part = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
      if (!stream.send(part)) await stream.onDrain();
    }
    await stream.close();
  });
  await node.start();
  console.log(`listening ${node.getMultiaddrs()[0]}`);
  const stop = async () => {
    await node.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
} else if (role === "client") {
  await node.start();
  const stream = await node.dialProtocol(multiaddr(positionals[1]!), PROTOCOL);
  const t0 = performance.now();
  let bytes = 0;
  for await (const piece of stream) bytes += piece.byteLength;
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ bytes, ms }));
  await node.stop();
  Deno.exit(0);
} else {
  console.error("usage: raw_peer_child.ts server --bytes N | client MULTIADDR");
  Deno.exit(2);
}
