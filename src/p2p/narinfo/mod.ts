/**
 * The narinfo exchange `/guix-p2p/narinfo/1.0.0` (docs/protocol.md §6):
 * signed narinfos travel between peers, looked up by store-path hash part
 * from connected peers and the DHT, verified by the asker like those from
 * HTTP. The codec (`encode.ts`, `decode.ts`, `messages.ts`) is pure.
 *
 * @example
 * ```ts
 * import { NarinfoPeers } from "./mod.ts";
 * const narinfos = new NarinfoPeers({ config, node: () => node, running: () => true, peerBook, emit });
 * ```
 * @module
 */
export { encodeNarinfoFrame, packNarinfos } from "./encode.ts";
export { type NarinfoDecodeOptions, NarinfoFrameDecoder, readNarinfoFrames } from "./decode.ts";
export * from "./messages.ts";
export { NARINFO_KEY_PREFIX, narinfoCid } from "./key.ts";
export { type NarinfoEvents, NarinfoPeers, type NarinfoPeersInit } from "./narinfo_peers.ts";
export { type NarinfoHoldings, NarinfoServer, type NarinfoServerEvents } from "./server.ts";
export { NarinfoLink, NarinfoLinks, NarinfoPeerFaultError, NarinfoRefusedError } from "./link.ts";
export { type NarinfoLookupEvents, NarinfoSwarm } from "./lookup.ts";
export { type NarinfoAnnounceEvents, NarinfoAnnouncer } from "./announce.ts";
