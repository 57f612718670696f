/**
 * A DHT attacker (or prober), run as its own process:
 *
 *   deno run -A dht_flood_peer.ts flood TARGET COUNT
 *   deno run -A dht_flood_peer.ts probe TARGET CID
 *
 * `flood` dials TARGET (a `/ip4/…/p2p/…` address) and sends ADD_PROVIDER
 * messages for COUNT random keys, on 32 streams at once, 500 per stream, as
 * fast as the target reads them; when a stream or the connection breaks it redials, and it gives up after
 * 3 refused dials in a row or 60 s. `probe` asks the DHT (through TARGET) for
 * the providers of CID and times it. Each prints one JSON line and exits.
 * @module
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { CID } from "multiformats/cid";
import { resolveConfig } from "../../src/config/load.ts";
import { createNode } from "../../src/p2p/node.ts";

const [mode, target, arg] = Deno.args;
if (!mode || !target || !arg) throw new Error("usage: dht_flood_peer.ts flood|probe TARGET ARG");

const config = resolveConfig({
  env: { get: () => undefined },
  overrides: [
    { key: "listen", value: ["/ip4/127.0.0.1/tcp/0"], flag: "-" },
    { key: "mdns", value: false, flag: "-" },
    { key: "dht_mode", value: mode === "probe" ? "client" : "server", flag: "-" },
    { key: "connection_allowlist", value: ["/ip4/127.0.0.0/ipcidr/8"], flag: "-" },
  ],
});
const node = await createNode(config, await generateKeyPair("Ed25519"));
await node.start();
const ma = multiaddr(target);
const targetId = target.split("/p2p/").at(-1);
const t0 = performance.now();

if (mode === "probe") {
  await node.dial(ma, { signal: AbortSignal.timeout(10_000) });
  const dht = node.services.dht as unknown as { routingTable: { size: number } };
  for (let i = 0; i < 100 && dht.routingTable.size === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  // The first lookup waits for kad-dht's initial self-query (~1 s); later ones are the real cost.
  const runs = Number(Deno.env.get("PROBE_RUNS") ?? "1");
  const times: number[] = [];
  let providers: string[] = [];
  for (let run = 0; run < runs; run++) {
    const t1 = performance.now();
    providers = [];
    for await (
      const p of node.services.dht.findProviders(CID.parse(arg), {
        signal: AbortSignal.timeout(20_000),
      })
    ) {
      if (p.name === "PROVIDER") providers.push(...p.providers.map((x) => x.id.toString()));
      if (providers.length > 0) break;
    }
    times.push(Math.round(performance.now() - t1));
  }
  console.log(JSON.stringify({ providers, ms: times[0], times }));
} else {
  const count = Number(arg);
  const self = node.peerId.toMultihash().bytes;
  const addr = multiaddr("/ip4/127.0.0.1/tcp/1").bytes;
  let sent = 0;
  let streamErrors = 0;
  let dials = 0;
  let refusedDials = 0;
  let refusedInARow = 0;
  const deadline = t0 + 60_000;
  // 32 streams at once (kad-dht accepts 32 inbound streams per connection), 500 messages each.
  const worker = async () => {
    while (sent < count && refusedInARow < 3 && performance.now() < deadline) {
      let stream;
      try {
        stream = await node.dialProtocol(ma, config.dht_protocol, {
          signal: AbortSignal.timeout(5000),
        });
        dials++;
        refusedInARow = 0;
      } catch {
        // No connection at all (refused, banned) counts; a stream refused on a live one does not.
        const connected = node.getConnections().some((c) => c.remotePeer.toString() === targetId);
        if (!connected) {
          refusedDials++;
          refusedInARow++;
        }
        await new Promise((r) => setTimeout(r, connected ? 20 : 200));
        continue;
      }
      try {
        const n = Math.min(500, count - sent);
        for (let i = 0; i < n && performance.now() < deadline; i++) {
          const msg = addProvider(randomMultihash(), self, addr);
          sent++;
          if (!stream.send(msg)) await stream.onDrain({ signal: AbortSignal.timeout(10_000) });
        }
        await stream.close({ signal: AbortSignal.timeout(10_000) });
      } catch {
        streamErrors++;
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  const connected = node.getConnections().some((c) => c.remotePeer.toString() === targetId);
  console.log(JSON.stringify({
    peerId: node.peerId.toString(),
    sent,
    streamErrors,
    dials,
    refusedDials,
    connected,
    ms: Math.round(performance.now() - t0),
  }));
}
await node.stop();
Deno.exit(0);

function randomMultihash(): Uint8Array {
  const mh = new Uint8Array(34);
  mh[0] = 0x12;
  mh[1] = 0x20;
  crypto.getRandomValues(mh.subarray(2));
  return mh;
}

/** A length-prefixed kad-dht Message { type: ADD_PROVIDER, key, providers: [{ id, addrs }] }. */
function addProvider(key: Uint8Array, id: Uint8Array, addr: Uint8Array): Uint8Array {
  const peer = [...field(1, id), ...field(2, addr)];
  const body = [0x08, 2, ...field(2, key), ...field(9, Uint8Array.from(peer))];
  return Uint8Array.from([...varint(body.length), ...body]);
}

function field(n: number, bytes: Uint8Array): number[] {
  return [(n << 3) | 2, ...varint(bytes.length), ...bytes];
}

function varint(n: number): number[] {
  const out = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
