/**
 * One process of DHT observers for bench/p2p/seed_upkeep.ts: `--nodes` libp2p
 * nodes (kad-dht server mode on guix-p2p's protocol id) on 127.0.0.1 that
 * dial `--bootstrap` (if given), count the streams a peer (`--watch`, set
 * later through stdin) opens to them and the payload bytes on those streams,
 * and write the counts as JSON to `--out` every second. Prints
 * `ready <address of its first node>` once listening. Stops on stdin EOF.
 *
 * @module
 */
import "../../src/p2p/runtime_patches.ts";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { identify } from "@libp2p/identify";
import type { Connection, Stream } from "@libp2p/interface";
import { kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p, type Libp2p } from "libp2p";
import { parseFlags } from "../../src/std/cli.ts";

const { flags } = parseFlags(Deno.args, { string: ["nodes", "bootstrap", "out", "protocol"] });
const KAD = flags.protocol ?? "/guix-p2p/kad/1.0.0";
const PROTOCOLS = [KAD, "/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0"];

// Under overload libp2p leaves stray rejections (aborted dials); count them, do not die.
let stray = 0;
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  stray++;
});

let watch = "";
const counts = {
  streams: {} as Record<string, number>,
  /** Kademlia requests by message type (ADD_PROVIDER, FIND_NODE, ...). */
  kadTypes: {} as Record<string, number>,
  /** The most ADD_PROVIDER one node received from the seeder in one second. */
  maxAddProviderPerSecond: 0,
  bytes: 0,
  stray: 0,
  tables: [] as number[],
};
const KAD_TYPES = ["PUT_VALUE", "GET_VALUE", "ADD_PROVIDER", "GET_PROVIDERS", "FIND_NODE", "PING"];
const perSecond = new Map<string, number>();

/** The Kademlia message type: after the varint length prefix, field 1 (varint). */
function kadType(bytes: Uint8Array): string | undefined {
  let i = 0;
  while (i < bytes.length && bytes[i]! & 0x80) i++;
  i++;
  if (bytes[i] !== 0x08) return undefined; // field 1, varint
  return KAD_TYPES[bytes[i + 1] ?? -1];
}

function countStream(stream: Stream, connection: Connection, node: number): void {
  if (connection.remotePeer.toString() !== watch) return;
  counts.streams[stream.protocol] = (counts.streams[stream.protocol] ?? 0) + 1;
  let first = stream.protocol === KAD;
  stream.addEventListener("message", (e) => {
    const data = (e as unknown as { data: Uint8Array | { subarray(): Uint8Array } }).data;
    const bytes = data instanceof Uint8Array ? data : data.subarray();
    counts.bytes += bytes.byteLength;
    if (!first) return;
    first = false;
    const type = kadType(bytes) ?? "other";
    counts.kadTypes[type] = (counts.kadTypes[type] ?? 0) + 1;
    if (type === "ADD_PROVIDER") {
      const key = `${node}:${Math.floor(Date.now() / 1000)}`;
      const n = (perSecond.get(key) ?? 0) + 1;
      perSecond.set(key, n);
      counts.maxAddProviderPerSecond = Math.max(counts.maxAddProviderPerSecond, n);
      if (perSecond.size > 10_000) perSecond.clear();
    }
  });
  const send = stream.send.bind(stream);
  stream.send = (data) => {
    counts.bytes += data.byteLength;
    return send(data);
  };
}

async function observer(index: number): Promise<Libp2p> {
  const node = await createLibp2p({
    privateKey: await generateKeyPair("Ed25519"),
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // All on 127.0.0.1: exempt from the per-host inbound connection rate.
    connectionManager: { maxConnections: 200, allow: ["/ip4/127.0.0.0/ipcidr/8"] },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({ protocol: KAD, clientMode: false, peerInfoMapper: passthroughMapper }),
    },
  });
  // Count by wrapping each protocol's handler (stream middleware would be
  // simpler, but libp2p 3.3.11 appends the handler to the registered
  // middleware array on every inbound stream: handlers pile up).
  const registrar = (node as unknown as {
    components: {
      registrar: {
        getHandler(p: string): {
          handler: (s: Stream, c: Connection) => void | Promise<void>;
          options: Record<string, unknown>;
        };
      };
    };
  }).components.registrar;
  for (const p of PROTOCOLS) {
    let record;
    try {
      record = registrar.getHandler(p);
    } catch {
      continue; // not handled by this node
    }
    const { handler, options } = record;
    await node.handle(p, (stream, connection) => {
      countStream(stream, connection, index);
      return handler(stream, connection);
    }, { ...options, force: true });
  }
  return node;
}

const nodes: Libp2p[] = [];
for (let i = 0; i < Number(flags.nodes ?? "5"); i++) nodes.push(await observer(i));
const hub = flags.bootstrap ?? `${nodes[0]!.getMultiaddrs()[0]}`;
for (const n of flags.bootstrap ? nodes : nodes.slice(1)) {
  await n.dial(multiaddr(hub)).catch(() => {});
}
console.log(`ready ${nodes[0]!.getMultiaddrs()[0]}`);
const timer = setInterval(() => {
  counts.stray = stray;
  counts.tables = nodes.map((n) =>
    (n.services as unknown as { dht: { routingTable: { size: number } } }).dht.routingTable.size
  );
  Deno.writeTextFileSync(`${flags.out}.tmp`, JSON.stringify(counts));
  Deno.renameSync(`${flags.out}.tmp`, flags.out!);
}, 1000);
for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  const m = /watch (\S+)/.exec(line);
  if (m) watch = m[1]!;
}
clearInterval(timer);
for (const n of nodes) await Promise.resolve(n.stop()).catch(() => {});
Deno.exit(0);
