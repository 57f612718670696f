/**
 * Peer upkeep seen from the CLI and the log: `peers` shows a latency for
 * connected peers, including peers that do not speak the ping protocol (the
 * original Rust guix-p2p runs kad + identify only); peers learned through the
 * DHT are not reported as found "on the local network" (only mDNS ones are).
 */
import "../src/p2p/runtime_patches.ts";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { identify } from "@libp2p/identify";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { assert, assertEquals } from "@std/assert";
import { startNode, startSwarm, type SwarmNode, waitForDht } from "./support/swarm.ts";
import { forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface PeerRow {
  peerId: string;
  connected: boolean;
  latencyMs: number | null;
}

Deno.test(
  "peers: connected peers get a latency, also peers without the ping protocol",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-upkeep-" });
    const node = await startNode("a", `${root}/a`, {});
    // A peer without /ipfs/ping (the original guix-p2p has none either).
    const bare = await createLibp2p({
      privateKey: await generateKeyPair("Ed25519"),
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
      services: { identify: identify() },
    });
    try {
      await bare.dial(multiaddr(node.address));
      const id = bare.peerId.toString();
      // libp2p's connection monitor measures within its 10 s period; the upkeep copies it.
      await node.daemon.waitForLog(new RegExp(`peer ${id} round trip \\d+ ms`), 30_000);
      const peers = await node.json<PeerRow[]>(["peers"]);
      const row = peers.find((p) => p.peerId === id);
      assertEquals(row?.connected, true, JSON.stringify(peers));
      assertEquals(typeof row?.latencyMs, "number", JSON.stringify(row));
      assert(row!.latencyMs! >= 0, JSON.stringify(row));
      const text = await node.cli(["peers"]);
      assertEquals(text.code, 0, text.stderr);
      const line = text.stdout.split("\n").find((l) => l.includes(id)) ?? "";
      assertEquals(/ \d+ ms /.test(line), true, `a latency in "${line}"`);
    } finally {
      await bare.stop();
      await node.daemon.stop();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "discovery: peers learned through the DHT are not said to be on the local network",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-upkeep-" });
    try {
      await using swarm = await startSwarm(root, 3);
      const [, n1, n2] = swarm as unknown as SwarmNode[];
      // n1 and n2 only know n0; they meet through the DHT.
      await waitForDht(n1!, 2);
      await waitForDht(n2!, 2);
      const logs = [...n1!.daemon.log, ...n2!.daemon.log];
      assertEquals(
        logs.filter((l) => /on the local network/.test(l)),
        [],
        "no mDNS here (mdns = false)",
      );
      const learned = logs.filter((l) =>
        new RegExp(`learned of peer (${n1!.peerId}|${n2!.peerId}) through the DHT`).test(l)
      );
      assert(learned.length >= 1, logs.join("\n"));
      for (const n of [n1!, n2!]) {
        const peers = await n.json<PeerRow[]>(["peers"]);
        const other = n === n1 ? n2! : n1!;
        assertEquals(peers.find((p) => p.peerId === other.peerId)?.connected, true);
      }
    } finally {
      await forceRemove(root);
    }
  },
);
