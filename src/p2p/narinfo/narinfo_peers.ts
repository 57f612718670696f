/**
 * The narinfo exchange as one part of the P2P service: the server that
 * answers peers from what the daemon holds, the per-peer links and the
 * lookups that ask peers (the resolver's {@linkcode PeerNarinfoSource}), and
 * the DHT announcements of held narinfos of seeded items. The daemon hands
 * over what it holds with {@linkcode NarinfoPeers.serveFrom}.
 *
 * @example
 * ```ts
 * const narinfos = new NarinfoPeers({ config, node: () => node, running: () => true, peerBook, emit });
 * narinfos.serveFrom(heldNarinfos);
 * await narinfos.start(node);
 * const texts = await narinfos.lookup(query, { dht: false });
 * ```
 * @module
 */
import type { Config } from "../../config/schema.ts";
import type { PeerNarinfoQuery, PeerNarinfoSource } from "../../http/peer_narinfos.ts";
import { isNix32 } from "../../encoding/nix32.ts";
import type { P2pNode } from "../node.ts";
import type { PeerBook } from "../peer_book.ts";
import { type NarinfoAnnounceEvents, NarinfoAnnouncer } from "./announce.ts";
import { NarinfoLinks } from "./link.ts";
import { type NarinfoLookupEvents, NarinfoSwarm } from "./lookup.ts";
import type { NarinfoFlavour } from "./messages.ts";
import { type NarinfoHoldings, NarinfoServer, type NarinfoServerEvents } from "./server.ts";

/** Events of the narinfo exchange. */
export interface NarinfoEvents
  extends NarinfoServerEvents, NarinfoLookupEvents, NarinfoAnnounceEvents {}

/** Options of {@linkcode NarinfoPeers}. */
export interface NarinfoPeersInit {
  config: Config;
  node: () => P2pNode;
  running: () => boolean;
  peerBook: PeerBook;
  emit: <K extends keyof NarinfoEvents>(type: K, payload: NarinfoEvents[K]) => void;
}

/** The narinfo exchange. */
export class NarinfoPeers implements PeerNarinfoSource {
  readonly links: NarinfoLinks;
  readonly swarm: NarinfoSwarm;
  readonly announcer: NarinfoAnnouncer;
  #o: NarinfoPeersInit;
  #holdings: NarinfoHoldings | undefined;
  #server: NarinfoServer | undefined;

  /** Builds the parts (nothing runs until {@linkcode start}). */
  constructor(init: NarinfoPeersInit) {
    this.#o = init;
    const c = init.config;
    this.links = new NarinfoLinks({
      node: init.node,
      timeoutMs: 10_000,
      onFault: (peer, reason) =>
        init.emit("peer:penalised", {
          peer,
          reason,
          banned: init.peerBook.fault(peer, reason).banned,
        }),
    });
    this.swarm = new NarinfoSwarm({
      node: init.node,
      running: init.running,
      links: this.links,
      peerBook: init.peerBook,
      discoveryTimeout: c.discovery_timeout,
      emit: part(init.emit),
    });
    this.announcer = new NarinfoAnnouncer({
      node: init.node,
      running: init.running,
      holdings: () => this.#holdings,
      itemOf: (path) => itemOf(path, c),
      emit: part(init.emit),
    });
  }

  /** Where the narinfos served to peers come from (the daemon's verified narinfos). */
  serveFrom(holdings: NarinfoHoldings): void {
    this.#holdings = holdings;
  }

  /** Starts serving (unless `narinfo_serve = "off"`) and the links' idle clean-up. */
  async start(node: P2pNode): Promise<void> {
    const c = this.#o.config;
    if (c.narinfo_serve !== "off") {
      this.#server = new NarinfoServer({
        node,
        peerBook: this.#o.peerBook,
        holdings: () => this.#holdings,
        ratePerSecond: c.narinfo_serve_rate,
        maxStreamsPerPeer: c.max_streams_per_peer,
        stallTimeoutMs: c.block_stream_stall_timeout * 1000,
        emit: part(this.#o.emit),
      });
      await this.#server.start();
    }
    this.links.start();
  }

  /** Stops serving, closes the links, aborts announcements. */
  async stop(): Promise<void> {
    this.announcer.stop();
    this.links.stop();
    await this.#server?.stop();
  }

  /** Announces the held narinfos of these seeded store paths in the DHT (in the background). */
  seeded(storePaths: readonly (string | undefined)[]): void {
    if (this.#o.config.narinfo_serve !== "off") this.announcer.announce(storePaths);
  }

  /** See {@linkcode PeerNarinfoSource.lookup}. */
  lookup(
    query: PeerNarinfoQuery,
    options: { dht: boolean; signal?: AbortSignal | undefined },
  ): Promise<Map<string, string>> {
    return this.swarm.lookup(query, options);
  }
}

type Emit<E> = <K extends keyof E>(type: K, payload: E[K]) => void;

/** The emitter typed for one part's events (a subset of {@linkcode NarinfoEvents}). */
function part<E>(emit: Emit<NarinfoEvents>): Emit<E> {
  return emit as unknown as Emit<E>;
}

/** The flavour and hash part of a store path of either store. */
function itemOf(
  path: string,
  c: Pick<Config, "store_dir" | "nix_store_dir">,
): { flavour: NarinfoFlavour; hashPart: string } | undefined {
  for (const [flavour, dir] of [["guix", c.store_dir], ["nix", c.nix_store_dir]] as const) {
    if (!path.startsWith(`${dir}/`)) continue;
    const hashPart = path.slice(dir.length + 1, dir.length + 33);
    if (path[dir.length + 33] === "-" && isNix32(hashPart)) return { flavour, hashPart };
  }
  return undefined;
}
