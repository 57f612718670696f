/**
 * Opening a protocol stream to a peer that may sit behind a NAT: use a
 * direct connection when there is one; when the only way in is a relayed
 * (limited) connection, give DCUtR a moment to replace it with a direct one
 * (the relayed side starts the upgrade as soon as identify has run) before
 * settling for the relay. The stream is opened on the chosen connection
 * with `runOnLimitedConnection`, so a relayed connection carries it too,
 * within the relay's data and time limits (docs/protocol.md, NAT traversal).
 *
 * @example
 * ```ts
 * const { stream, connection } = await openPreferDirect(node, peerId, BLOCKS_PROTOCOL, { signal });
 * isRelayed(connection.remoteAddr.toString()); // false after a successful upgrade
 * ```
 * @module
 */
import type { Connection, Libp2p, PeerId, Stream } from "@libp2p/interface";

/** How long a relayed-only peer is given to become direct. */
export const DIRECT_WAIT_MS = 2000;
/** After a wait in vain, later streams to that peer use the relay at once for this long. */
const NO_DIRECT_MS = 10 * 60_000;
/** Peers that did not become direct, per node: peer → until when not to wait. */
const noDirect = new WeakMap<object, Map<string, number>>();

/** Options of {@linkcode openPreferDirect}. */
export interface OpenPreferDirectOptions {
  signal?: AbortSignal | undefined;
  /** Time given to DCUtR (default {@linkcode DIRECT_WAIT_MS}). */
  waitMs?: number;
}

type Node = Pick<Libp2p, "getConnections" | "dial" | "addEventListener" | "removeEventListener">;

/** The best open connection: direct first, then relayed. */
function best(connections: Connection[]): Connection | undefined {
  const open = connections.filter((c) => c.status === "open");
  return open.find((c) => c.limits === undefined) ?? open[0];
}

/** Resolves with a direct connection to `peerId` as soon as one opens, or undefined after `ms`. */
function directSoon(
  node: Node,
  peerId: PeerId,
  ms: number,
  signal?: AbortSignal,
): Promise<Connection | undefined> {
  return new Promise((resolve) => {
    const done = (c?: Connection) => {
      clearTimeout(timer);
      node.removeEventListener("connection:open", onOpen);
      signal?.removeEventListener("abort", onAbort);
      resolve(c);
    };
    const onOpen = (ev: CustomEvent<Connection>) => {
      if (ev.detail.remotePeer.equals(peerId) && ev.detail.limits === undefined) done(ev.detail);
    };
    const onAbort = () => done();
    const timer = setTimeout(done, ms);
    node.addEventListener("connection:open", onOpen);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A direct connection if one opens within the wait (skipped for peers that recently did not). */
async function waitForDirect(
  node: Node,
  peerId: PeerId,
  options: OpenPreferDirectOptions,
  signal?: AbortSignal,
): Promise<Connection | undefined> {
  let peers = noDirect.get(node);
  if (!peers) noDirect.set(node, peers = new Map());
  const key = peerId.toString();
  if ((peers.get(key) ?? 0) > Date.now()) return undefined;
  const direct = await directSoon(node, peerId, options.waitMs ?? DIRECT_WAIT_MS, signal);
  if (direct) peers.delete(key);
  else if (!signal?.aborted) {
    if (peers.size >= 4096) peers.delete(peers.keys().next().value!);
    peers.set(key, Date.now() + NO_DIRECT_MS);
  }
  return direct;
}

/** Opens `protocol` to `peerId`, preferring a direct connection (see the module doc). */
export async function openPreferDirect(
  node: Node,
  peerId: PeerId,
  protocol: string,
  options: OpenPreferDirectOptions = {},
): Promise<{ stream: Stream; connection: Connection }> {
  const { signal } = options;
  const withSignal = signal ? { signal } : {};
  for (let attempt = 0;; attempt++) {
    let connection = best(node.getConnections(peerId)) ?? await node.dial(peerId, withSignal);
    if (connection.limits !== undefined) {
      const direct = best(node.getConnections(peerId));
      if (direct?.limits === undefined) connection = direct!;
      else connection = (await waitForDirect(node, peerId, options, signal)) ?? connection;
    }
    try {
      const stream = await connection.newStream(protocol, {
        ...withSignal,
        runOnLimitedConnection: true,
      });
      return { stream, connection };
    } catch (e) {
      // The relayed connection may just have been closed by a successful upgrade: once more.
      if (attempt > 0 || connection.status === "open" || signal?.aborted) throw e;
    }
  }
}
