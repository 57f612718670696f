/**
 * A misbehaving guix-p2p peer, run as its own process, for adversarial tests.
 * It joins the swarm through a bootstrap address, indexes a tree as a NAR,
 * announces it in the DHT and serves it — badly:
 *
 *   deno run -A evil_peer.ts MODE BOOTSTRAP TREE
 *
 * MODE:
 * - `bad-blocks`: honest manifest, every block's content flipped;
 * - `slow-lying-manifest`: the same lie, with the last block held back 4 s (so that an
 *   honest node downloading from it relays the lie for a while);
 * - `lying-manifest`: a manifest whose block hashes describe a different NAR
 *   of the same size, and blocks that match that lie (so only the final
 *   NarHash check can catch it);
 * - `garbage`: announces the item, then answers every stream with random bytes;
 * - `narinfo-unknown-key`: serves the item's NAR honestly, and its narinfo (the
 *   genuine one given as NARINFO) re-signed by a key nobody trusts;
 * - `narinfo-tampered`: serves a different NAR of the same size (the lie), and
 *   the genuine narinfo with its NarHash changed to the lie's (the signature
 *   no longer matches), so only the narinfo check stands between it and the store.
 *
 *   deno run -A evil_peer.ts MODE BOOTSTRAP TREE [NEIGHBOUR,...] [NARINFO]
 *
 * It prints `READY <peerId>` once the provider record is published.
 * @module
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { resolveConfig } from "../../src/config/load.ts";
import { hexEncode } from "../../src/encoding/hex.ts";
import { dumpPath } from "../../src/fs/mod.ts";
import { narCid } from "../../src/p2p/content_key.ts";
import { BlockHasher, blockRange, type Manifest } from "../../src/p2p/wire/manifest.ts";
import { createNode } from "../../src/p2p/node.ts";
import { formatNarHash } from "../../src/hash/nar_hash.ts";
import { sha256 } from "../../src/hash/sha256.ts";
import { parseNarinfo } from "../../src/narinfo/mod.ts";
import {
  encodeNarinfoFrame,
  NARINFO_PROTOCOL,
  packNarinfos,
  readNarinfoFrames,
} from "../../src/p2p/narinfo/mod.ts";
import { generateGuixKey, signGuixNarinfo } from "../../src/trust/mod.ts";
import {
  BLOCKS_PROTOCOL,
  encodeFrame,
  encodeFrameParts,
  readFrames,
} from "../../src/p2p/wire/mod.ts";

const [mode, bootstrap, tree, neighbours, narinfoFile] = Deno.args;
if (!mode || !bootstrap || !tree) {
  throw new Error("usage: evil_peer.ts MODE BOOTSTRAP TREE [NEIGHBOUR,...]");
}

const chunks: Uint8Array[] = [];
for await (const c of dumpPath(tree)) chunks.push(c);
const nar = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
let off = 0;
for (const c of chunks) {
  nar.set(c, off);
  off += c.length;
}
const honest = new BlockHasher(256 * 1024).update(nar).finish();
// The lie: the same NAR with every byte after the magic inverted.
const fake = nar.map((b, i) => (i < 16 ? b : b ^ 0xff));
const lie = new BlockHasher(256 * 1024).update(fake).finish();
const lying = mode === "lying-manifest" || mode === "slow-lying-manifest";
const manifest: Manifest = lying
  ? { ...lie, narHash: honest.narHash }
  : mode === "narinfo-tampered"
  ? lie
  : honest;
manifest.verified = true; // a liar says it checked
const served = lying || mode === "bad-blocks" || mode === "narinfo-tampered" ? fake : nar;
// The item as announced and served: the lie's NarHash when the narinfo is tampered to match it.
const announced = mode === "narinfo-tampered" ? lie.narHash : honest.narHash;

const config = resolveConfig({
  env: { get: () => undefined },
  overrides: [
    { key: "listen", value: ["/ip4/127.0.0.1/tcp/0"], flag: "-" },
    { key: "mdns", value: false, flag: "-" },
    { key: "connection_allowlist", value: ["/ip4/127.0.0.0/ipcidr/8"], flag: "-" },
  ],
});
const node = await createNode(config, await generateKeyPair("Ed25519"));
await node.handle(BLOCKS_PROTOCOL, async (stream) => {
  try {
    if (mode === "garbage") {
      stream.send(crypto.getRandomValues(new Uint8Array(4096)));
      await stream.close();
      return;
    }
    for await (const msg of readFrames(stream, { accept: "requests" })) {
      if (msg.kind === "get-manifest") {
        stream.send(encodeFrame({ kind: "manifest", id: msg.id, manifest }));
      }
      // It claims to have verified its item, and serves it whole like any peer (its lie included).
      if (msg.kind === "have") {
        const mine = hexEncode(announced);
        const states = msg.narHashes.map((h) =>
          hexEncode(h) === mine ? "complete" as const : "none" as const
        );
        stream.send(encodeFrame({ kind: "have-reply", id: msg.id, states }));
      }
      if (msg.kind === "get-nars") {
        for (const h of msg.narHashes) {
          const parts = hexEncode(h) === hexEncode(announced) && served.length <= 4 << 20
            ? encodeFrameParts({
              kind: "nar",
              id: msg.id,
              narHash: h,
              encoding: "raw",
              rawLength: served.length,
              data: served,
            })
            : [encodeFrame({ kind: "not-found", id: msg.id, narHash: h })];
          for (const p of parts) if (!stream.send(p)) await stream.onDrain();
        }
      }
      if (msg.kind === "get-blocks") {
        for (const index of msg.indexes) {
          const { offset, length } = blockRange(manifest, index);
          if (mode === "slow-lying-manifest" && index === manifest.blockCount - 1) {
            await new Promise((r) => setTimeout(r, 4000));
          }
          for (
            const p of encodeFrameParts({
              kind: "block",
              id: msg.id,
              index,
              encoding: "raw",
              rawLength: length,
              data: served.subarray(offset, offset + length),
            })
          ) {
            if (!stream.send(p)) await stream.onDrain();
          }
        }
      }
    }
    await stream.close();
  } catch {
    stream.abort(new Error("evil peer done"));
  }
});
// The bad narinfo of the item, whatever keys the asker trusts.
const badNarinfo = (() => {
  if (!narinfoFile) return undefined;
  const genuine = Deno.readTextFileSync(narinfoFile);
  const info = parseNarinfo(genuine);
  if (mode === "narinfo-unknown-key") {
    return signGuixNarinfo(info, generateGuixKey(), "evil-host", "publish");
  }
  const digest = sha256(fake);
  return genuine.replace(/^NarHash: .*$/m, `NarHash: ${formatNarHash(digest)}`);
})();
const badHashPart = badNarinfo
  ? /\/([0-9a-z]{32})-/.exec(parseNarinfo(badNarinfo).storePath)?.[1]
  : "";
await node.handle(NARINFO_PROTOCOL, async (stream) => {
  try {
    for await (const msg of readNarinfoFrames(stream, { accept: "requests" })) {
      if (msg.kind !== "get-narinfos") continue;
      const entries = msg.hashParts.map((h) => (h === badHashPart ? badNarinfo! : null));
      for (const m of packNarinfos(msg.id, entries)) {
        if (!stream.send(encodeNarinfoFrame(m))) await stream.onDrain();
      }
    }
    await stream.close();
  } catch {
    stream.abort(new Error("evil peer done"));
  }
});
await node.start();
await node.dial(multiaddr(bootstrap));
// Peers it connects to directly, as a neighbour on the same LAN would.
for (const n of (neighbours ?? "").split(",").filter((x) => x !== "")) {
  await node.dial(multiaddr(n)).catch(() => {});
}
for (
  let i = 0;
  i < 100 &&
  (node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size === 0;
  i++
) {
  await new Promise((r) => setTimeout(r, 50));
}
for await (
  const _ of node.services.dht.provide(narCid(announced), {
    signal: AbortSignal.timeout(30_000),
  })
) { /* */ }
console.log(`READY ${node.peerId.toString()}`);
Deno.addSignalListener("SIGTERM", async () => {
  await node.stop();
  Deno.exit(0);
});
