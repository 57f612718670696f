/**
 * A DHT server that records the provider records it is sent, run as its own
 * process: `deno run -A dht_recorder_peer.ts`. It is a guix-p2p libp2p node
 * (src/p2p/node.ts: kad-dht in server mode, the production provider-record
 * store and limits) listening on 127.0.0.1; it prints one JSON line
 * `{"peerId","address"}` once listening, then one line `{"key","peer","ok"}`
 * per ADD_PROVIDER record its store is asked to keep (kept or refused), and
 * exits when its stdin closes.
 * @module
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { resolveConfig } from "../../src/config/load.ts";
import { createNode, providerStore } from "../../src/p2p/node.ts";

const config = resolveConfig({
  env: { get: () => undefined },
  overrides: [
    { key: "listen", value: ["/ip4/127.0.0.1/tcp/0"], flag: "-" },
    { key: "mdns", value: false, flag: "-" },
    { key: "dht_mode", value: "server", flag: "-" },
    { key: "connection_allowlist", value: ["/ip4/127.0.0.0/ipcidr/8"], flag: "-" },
  ],
});
const node = await createNode(config, await generateKeyPair("Ed25519"));
const store = providerStore(node)!;
const add = store.add.bind(store);
const self = node.peerId.toString();
store.add = (key, peer, time) => {
  const r = add(key, peer, time);
  if (peer !== self) console.log(JSON.stringify({ key, peer, ok: r.ok }));
  return r;
};
await node.start();
const address = node.getMultiaddrs().map(String).find((a) => a.includes("/tcp/"))!;
console.log(JSON.stringify({ peerId: self, address }));
// Runs until the test closes our stdin.
for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
await node.stop();
Deno.exit(0);
