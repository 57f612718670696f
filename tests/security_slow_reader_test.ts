/**
 * A peer that requests blocks and then stops reading (slowloris) must not
 * hold a block stream, its send window and the pinned item forever (issue 10
 * item 7d): the block server resets a stream whose reader takes nothing for
 * `block_stream_stall_timeout`.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { multiaddr } from "@multiformats/multiaddr";
import "../src/p2p/runtime_patches.ts";
import { parseNarHash } from "../src/hash/nar_hash.ts";
import { BLOCKS_PROTOCOL, encodeFrame } from "../src/p2p/wire/mod.ts";
import { randomBytes } from "./support/random.ts";
import { seedCopy, startRawClient, startSwarm } from "./support/swarm.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "a block stream whose reader stops reading is reset after the stall timeout",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-slow-" });
    try {
      await Deno.mkdir(`${root}/src`);
      await Deno.writeFile(`${root}/src/blob`, randomBytes(8 * 1024 * 1024));
      await using swarm = await startSwarm(root, 2, () => ({ block_stream_stall_timeout: "2s" }));
      const [seeder] = swarm;
      await seedCopy(seeder!, `${root}/src`, "0a0b0c0d0f0g0h0i0j0k0l0m0n0p0q0r-big-1.0");
      const [seed] = await seeder!.json<{ narHash: string; narSize: number }[]>(["seeds"]);
      const client = await startRawClient();
      try {
        const stream = await client.dialProtocol(multiaddr(seeder!.address), BLOCKS_PROTOCOL);
        const closed = new Promise<string>((resolve) =>
          stream.addEventListener("close", (e) => resolve(String((e as { error?: Error }).error)), {
            once: true,
          })
        );
        // Ask for every block, then never read a byte: the server's window fills up.
        stream.pause();
        const blocks = Math.ceil(seed!.narSize / (256 * 1024));
        stream.send(encodeFrame({
          kind: "get-blocks",
          id: 1,
          narHash: parseNarHash(seed!.narHash),
          indexes: Array.from({ length: blocks }, (_, i) => i),
        }));
        const t0 = performance.now();
        const outcome = await Promise.race([
          closed,
          new Promise<string>((r) => setTimeout(() => r("still open after 20 s"), 20_000)),
        ]);
        assertEquals(outcome === "still open after 20 s", false, outcome);
        assertEquals(performance.now() - t0 < 15_000, true);
        const line = await seeder!.daemon.waitForLog(/refused a block stream from .*took nothing/);
        assertMatch(line, new RegExp(client.peerId.toString()));
      } finally {
        await client.stop();
      }
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
);
