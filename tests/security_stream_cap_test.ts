/**
 * A peer cannot hold more than `max_streams_per_peer` streams open on the
 * block protocol or the narinfo protocol of a daemon (a separate process):
 * the streams past the cap are refused at once, the first ones stay open.
 * (On one connection libp2p's registrar refuses them, `maxInboundStreams`;
 * the servers' own per-peer count covers a peer on several connections.)
 */
import { assertEquals } from "@std/assert";
import type { Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { NARINFO_PROTOCOL } from "../src/p2p/narinfo/messages.ts";
import { BLOCKS_PROTOCOL } from "../src/p2p/wire/mod.ts";
import { startRawClient, startSwarm } from "./support/swarm.ts";

const T = { sanitizeOps: false, sanitizeResources: false };
const CAP = 2;
const OPENED = 5;

Deno.test(
  "streams past max_streams_per_peer are refused on the block and narinfo protocols",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-streams-" });
    try {
      await using swarm = await startSwarm(
        root,
        1,
        () => ({ max_streams_per_peer: CAP }),
      );
      const [daemon] = swarm;
      const client = await startRawClient();
      try {
        for (const protocol of [BLOCKS_PROTOCOL, NARINFO_PROTOCOL]) {
          const closed = new Set<number>();
          let wake = () => {};
          const streams: Stream[] = [];
          const ended = (i: number) => {
            closed.add(i);
            wake();
          };
          for (let i = 0; i < OPENED; i++) {
            // One at a time, so that the daemon counts them in this order.
            const stream = await client.dialProtocol(multiaddr(daemon!.address), protocol, {
              negotiateFully: true,
            });
            stream.addEventListener("close", () => ended(i), { once: true });
            if (stream.status !== "open") ended(i); // refused before the listener was attached
            streams.push(stream);
          }
          // Wait (bounded) for the refusals: every stream past the cap is closed by the daemon.
          const deadline = Date.now() + 15_000;
          while (closed.size < OPENED - CAP && Date.now() < deadline) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, deadline - Date.now());
            });
          }
          assertEquals([...closed].sort(), [2, 3, 4], `${protocol}: refused streams`);
          assertEquals(streams.slice(0, CAP).map((s) => s.status), ["open", "open"], protocol);
          for (const s of streams) s.abort(new Error("test done"));
        }
      } finally {
        await client.stop();
      }
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
);
