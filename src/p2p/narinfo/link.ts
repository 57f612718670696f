/**
 * The requester's end of the narinfo exchange: one long-lived stream per
 * peer ({@linkcode NarinfoLink}), shared by every lookup, requests
 * multiplexed by id; and the pool that opens them on first use and closes
 * them when idle or when the peer goes ({@linkcode NarinfoLinks}). A reply
 * to a request never made, answers out of order or beyond the request, or a
 * malformed frame is a protocol fault: the stream is reset and the pool's
 * `onFault` is told (the caller penalises the peer).
 *
 * @example
 * ```ts
 * const links = new NarinfoLinks({ node: () => node, timeoutMs: 5000, onFault: (peer, why) => book.fault(peer, why) });
 * const link = await links.get(peerId);
 * const texts = await link.request("guix", [aclKey], [hashPart], 2000); // ["StorePath: …"] or [null]
 * ```
 * @module
 */
import type { PeerId, Stream } from "@libp2p/interface";
import { sendParts } from "../_channel.ts";
import { LinkPool } from "../_link_pool.ts";
import type { P2pNode } from "../node.ts";
import { readNarinfoFrames } from "./decode.ts";
import { encodeNarinfoFrame } from "./encode.ts";
import { MAX_HASH_PARTS, NARINFO_PROTOCOL, type NarinfoFlavour } from "./messages.ts";

/** A peer broke the narinfo protocol. */
export class NarinfoPeerFaultError extends Error {
  override name = "NarinfoPeerFaultError";
}

/** A peer refused a request (`ERROR busy`, `bad-request`, `internal`). */
export class NarinfoRefusedError extends Error {
  override name = "NarinfoRefusedError";
}

interface Pending {
  entries: (string | null)[];
  count: number;
  resolve: (entries: (string | null)[]) => void;
  reject: (e: Error) => void;
}

/** Ids of requests that timed out, whose late replies are dropped quietly (bounded). */
const MAX_EXPIRED = 256;

/** One narinfo stream to one peer. */
export class NarinfoLink {
  readonly peer: string;
  #stream: Stream;
  #pending = new Map<number, Pending>();
  #expired = new Set<number>();
  #nextId = 1;
  #closed = false;
  #lastUsed = Date.now();
  #listeners = new Set<(error?: Error, fault?: boolean) => void>();

  private constructor(peer: string, stream: Stream) {
    this.peer = peer;
    this.#stream = stream;
    this.#read();
  }

  /** Dials `peerId` if needed and opens the narinfo stream (bounded by `timeoutMs`). */
  static async open(
    node: P2pNode,
    peerId: PeerId,
    options: { timeoutMs: number; signal?: AbortSignal | undefined },
  ): Promise<NarinfoLink> {
    const signal = AbortSignal.any([
      AbortSignal.timeout(options.timeoutMs),
      ...(options.signal ? [options.signal] : []),
    ]);
    const stream = await node.dialProtocol(peerId, NARINFO_PROTOCOL, { signal });
    return new NarinfoLink(peerId.toString(), stream);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Requests in flight. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** When a request was last sent or answered (ms since the epoch). */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /** Calls `listener` once when the link closes (`fault` for protocol violations). */
  onClose(listener: (error?: Error, fault?: boolean) => void): void {
    if (this.#closed) queueMicrotask(() => listener(new Error(`${this.peer}: link closed`)));
    else this.#listeners.add(listener);
  }

  /**
   * The peer's narinfos of `hashParts` (1 to 1024) signed by one of `keys`,
   * in order (null: not held); rejects after `timeoutMs` without the last answer.
   */
  request(
    flavour: NarinfoFlavour,
    keys: Uint8Array[],
    hashParts: string[],
    timeoutMs: number,
  ): Promise<(string | null)[]> {
    if (this.#closed) return Promise.reject(new Error(`${this.peer}: link closed`));
    if (hashParts.length < 1 || hashParts.length > MAX_HASH_PARTS) {
      return Promise.reject(new RangeError(`narinfo request of ${hashParts.length} hash parts`));
    }
    const id = this.#nextId++;
    const frame = encodeNarinfoFrame({ kind: "get-narinfos", id, flavour, keys, hashParts });
    const { promise, resolve, reject } = Promise.withResolvers<(string | null)[]>();
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      this.#expired.add(id);
      if (this.#expired.size > MAX_EXPIRED) {
        this.#expired.delete(this.#expired.values().next().value!);
      }
      reject(new Error(`${this.peer}: no narinfo reply within ${timeoutMs} ms`));
    }, timeoutMs);
    this.#pending.set(id, {
      entries: [],
      count: hashParts.length,
      resolve: (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
    this.#lastUsed = Date.now();
    sendParts(this.#stream, [frame]).catch((e) => this.close(e as Error));
    return promise;
  }

  /** Closes the stream (resets it with an error); every pending request fails. */
  close(error?: Error, fault = false): void {
    if (this.#closed) return;
    this.#closed = true;
    if (error) this.#stream.abort(error);
    else this.#stream.close().catch(() => {});
    const reason = error ?? new Error(`${this.peer}: link closed`);
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
    for (const l of this.#listeners) l(error, fault);
    this.#listeners.clear();
  }

  #read(): void {
    (async () => {
      for await (const msg of readNarinfoFrames(this.#stream, { accept: "responses" })) {
        this.#lastUsed = Date.now();
        const p = this.#pending.get(msg.id);
        if (!p) {
          if (this.#expired.has(msg.id)) continue; // a late reply to a request that timed out
          throw new NarinfoPeerFaultError(
            `${this.peer}: narinfo reply to unknown request ${msg.id}`,
          );
        }
        if (msg.kind === "error") {
          this.#pending.delete(msg.id);
          p.reject(new NarinfoRefusedError(`${this.peer}: ${msg.code}: ${msg.message}`));
          continue;
        }
        if (msg.kind !== "narinfos") {
          throw new NarinfoPeerFaultError(`${this.peer}: ${msg.kind} in reply to get-narinfos`);
        }
        if (msg.first !== p.entries.length || msg.first + msg.entries.length > p.count) {
          throw new NarinfoPeerFaultError(
            `${this.peer}: narinfo answers ${msg.first}..${
              msg.first + msg.entries.length - 1
            } do not follow ${p.entries.length} of ${p.count}`,
          );
        }
        p.entries.push(...msg.entries);
        if (p.entries.length === p.count) {
          this.#pending.delete(msg.id);
          p.resolve(p.entries);
        }
      }
      this.close();
    })().catch((e) =>
      this.close(
        e as Error,
        e instanceof NarinfoPeerFaultError || (e as Error).name === "WireError",
      )
    );
  }
}

/** Options of {@linkcode NarinfoLinks}. */
export interface NarinfoLinksInit {
  node: () => P2pNode;
  /** Bound on opening a link. */
  timeoutMs: number;
  /** A link with no request for this long closes. Default 60 s. */
  idleMs?: number;
  /** A peer broke the protocol (its link was reset). */
  onFault?: (peer: string, reason: string) => void;
}

/** One {@linkcode NarinfoLink} per peer, opened on first use. */
export class NarinfoLinks {
  #pool: LinkPool<NarinfoLink>;

  /** Creates the pool (call {@linkcode start} for idle clean-up). */
  constructor(init: NarinfoLinksInit) {
    this.#pool = new LinkPool<NarinfoLink>({
      open: (peerId, signal) =>
        NarinfoLink.open(init.node(), peerId, { timeoutMs: init.timeoutMs, signal }),
      ...(init.idleMs !== undefined ? { idleMs: init.idleMs } : {}),
      onClosed: (peer, _link, error, fault) => {
        if (fault) init.onFault?.(peer, error?.message ?? "narinfo protocol fault");
      },
    });
  }

  /** Starts closing idle links. */
  start(): void {
    this.#pool.start();
  }

  /** Closes every link. */
  stop(): void {
    this.#pool.stop();
  }

  /** The link to `peerId`, opened (and dialled) if needed. */
  get(peerId: PeerId, signal?: AbortSignal): Promise<NarinfoLink> {
    return this.#pool.get(peerId, signal);
  }

  /** Closes the link to `peer` (its connection closed). */
  closePeer(peer: string): void {
    this.#pool.closePeer(peer);
  }
}
