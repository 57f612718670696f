/**
 * Addresses learned from peers are not dialled when they point at our own
 * host or link (issue 10 item 7c): a real libp2p node configured for a real
 * network (no loopback listen or bootstrap address) refuses to dial a
 * loopback address — the kind a hostile peer advertises through identify or
 * the DHT — while a node that lives on loopback (the test swarms) still does.
 */
import { assertEquals, assertRejects } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import "../src/p2p/runtime_patches.ts";
import { resolveConfig } from "../src/config/load.ts";
import { createNode } from "../src/p2p/node.ts";
import { startSwarm } from "./support/swarm.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

function client(overrides: { key: string; value: unknown }[]) {
  const config = resolveConfig({
    env: { get: () => undefined },
    overrides: [
      { key: "mdns", value: false, flag: "-" },
      ...overrides.map((o) => ({ ...o, flag: "-" })),
    ],
  });
  return generateKeyPair("Ed25519").then((k) => createNode(config, k));
}

Deno.test(
  "a node on a real network does not dial a loopback address a peer advertises",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-dial-" });
    try {
      await using swarm = await startSwarm(root, 1);
      const target = multiaddr(swarm[0]!.address);
      const lan = await client([
        { key: "listen", value: ["/ip4/0.0.0.0/tcp/0"] },
        { key: "bootstrap_peers", value: ["/ip4/192.0.2.1/tcp/6881/p2p/" + swarm[0]!.peerId] },
      ]);
      const local = await client([{ key: "listen", value: ["/ip4/127.0.0.1/tcp/0"] }]);
      await lan.start();
      await local.start();
      try {
        await assertRejects(
          () => lan.dial(target, { signal: AbortSignal.timeout(5000) }),
          Error,
          "denied",
        );
        assertEquals(lan.getConnections().length, 0);
        const conn = await local.dial(target, { signal: AbortSignal.timeout(5000) });
        assertEquals(conn.remotePeer.toString(), swarm[0]!.peerId);
      } finally {
        await lan.stop();
        await local.stop();
      }
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
);
