/**
 * The requests a {@linkcode PeerLink} has in flight and how each reply is
 * matched to its request: `have` and `get-manifest` answered once, `get-nars`
 * answered hash by hash in order, `get-blocks` block by block. A reply that
 * does not fit its request is a {@linkcode PeerFaultError}.
 *
 * @example
 * ```ts
 * import { answerRequest, type Pending } from "./_replies.ts";
 * const pending = new Map<number, Pending>();
 * const p: Pending = { kind: "manifest", resolve: (m) => console.log(m), reject: console.error };
 * pending.set(1, p);
 * answerRequest("peer", { kind: "not-found", id: 1, narHash: new Uint8Array(32) }, p, pending);
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import type {
  BlockMessage,
  ErrorCode,
  HaveState,
  Manifest,
  NarMessage,
  WireMessage,
} from "../wire/mod.ts";

/**
 * Where the responses to one `get-blocks` go.
 *
 * @example
 * ```ts
 * import type { BlockHandlers } from "./_replies.ts";
 * const handlers: BlockHandlers = {
 *   block: (message) => console.log("block", message.index),
 *   error: (index, code) => console.log("no block", index, code),
 * };
 * ```
 */
export interface BlockHandlers {
  /** A requested block arrived (not yet verified); `bulk` set when it came on the bulk lane. */
  block(message: BlockMessage, bulk?: BulkOrigin): Promise<void> | void;
  /** A requested block could not be served. */
  error(index: number, code: ErrorCode | "not-found"): void;
}

/**
 * One answer of a `get-nars`.
 *
 * @example
 * ```ts
 * import type { NarReply } from "./_replies.ts";
 * const reply: NarReply = { kind: "not-found" };
 * ```
 */
export type NarReply =
  | { kind: "nar"; message: NarMessage; bulk?: BulkOrigin }
  | { kind: "not-found" }
  | { kind: "error"; code: ErrorCode; message: string };

/**
 * Data that came on a bulk lane (plain TCP): if it proves wrong, the lane may
 * have been tampered with on the way, so it is not held against the peer —
 * `distrust` closes the lane and moves its requests to the encrypted stream.
 *
 * @example
 * ```ts
 * import type { BulkOrigin } from "./_replies.ts";
 * const origin: BulkOrigin = { distrust: (reason) => console.log("bulk lane dropped:", reason) };
 * ```
 */
export interface BulkOrigin {
  /** Drops the lane (its requests go on over the encrypted stream). */
  distrust(reason: string): void;
}

/** Which channel of a link a request went on. */
export type Lane = "stream" | "bulk";

/**
 * Raised for a peer's protocol violation.
 *
 * @example
 * ```ts
 * import { PeerFaultError } from "./_replies.ts";
 * const fault = new PeerFaultError("12D3KooW…: block 7 was not requested in 3");
 * fault.name; // "PeerFaultError"
 * ```
 */
export class PeerFaultError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PeerFaultError";
  }
}

/** A request in flight on a link, waiting for its replies. */
export type Pending =
  | {
    kind: "manifest";
    resolve: (m: Manifest | "not-found") => void;
    reject: (e: Error) => void;
  }
  | { kind: "have"; count: number; resolve: (s: HaveState[]) => void; reject: (e: Error) => void }
  | {
    kind: "bulk";
    resolve: (offer: { port: number; ticket: Uint8Array }) => void;
    reject: (e: Error) => void;
  }
  | {
    kind: "nars";
    lane: Lane;
    /** The NarHashes still to be answered, raw (to ask again on another lane). */
    raw: Uint8Array[];
    hashes: string[];
    next: number;
    onReply: (index: number, reply: NarReply) => void;
    resolve: () => void;
    reject: (e: Error) => void;
    touch: () => void;
  }
  | {
    kind: "blocks";
    lane: Lane;
    narHash: Uint8Array;
    outstanding: number[];
    /** Every index the request named (a late or cancelled one is not a fault). */
    all: Set<number>;
    handlers: BlockHandlers;
  };

/**
 * Routes a reply to a `have`, `get-manifest` or `get-nars` request `p`
 * (request `msg.id` in `pending`, removed once fully answered).
 * @throws {PeerFaultError} when the reply does not fit the request.
 *
 * @example
 * ```ts
 * import { answerRequest, type Pending } from "./_replies.ts";
 * const pending = new Map<number, Pending>();
 * const p: Pending = { kind: "have", count: 1, resolve: (s) => console.log(s), reject: console.error };
 * pending.set(2, p);
 * answerRequest("peer", { kind: "have-reply", id: 2, states: ["complete"] }, p, pending);
 * ```
 */
export function answerRequest(
  peer: string,
  msg: WireMessage,
  p: Exclude<Pending, { kind: "blocks" }>,
  pending: Map<number, Pending>,
  bulk?: BulkOrigin,
): void {
  switch (p.kind) {
    case "bulk":
      pending.delete(msg.id);
      if (msg.kind === "bulk-ticket") p.resolve({ port: msg.port, ticket: msg.ticket });
      else if (msg.kind === "error") p.reject(new Error(`${peer}: ${msg.code}: ${msg.message}`));
      else throw new PeerFaultError(`${peer}: ${msg.kind} in reply to bulk-open`);
      break;
    case "manifest":
      pending.delete(msg.id);
      if (msg.kind === "manifest") p.resolve(msg.manifest);
      else if (msg.kind === "not-found") p.resolve("not-found");
      else if (msg.kind === "error") {
        p.reject(new Error(`${peer}: ${msg.code}: ${msg.message}`));
      } else throw new PeerFaultError(`${peer}: ${msg.kind} in reply to get-manifest`);
      break;
    case "have":
      pending.delete(msg.id);
      if (msg.kind === "have-reply" && msg.states.length === p.count) p.resolve(msg.states);
      else if (msg.kind === "error") {
        p.reject(new Error(`${peer}: ${msg.code}: ${msg.message}`));
      } else throw new PeerFaultError(`${peer}: bad reply to have (${msg.kind})`);
      break;
    case "nars":
      answerNars(peer, msg, p, pending, bulk);
      break;
  }
}

/** A `get-nars` reply: the answer for the next hash asked, in order. */
function answerNars(
  peer: string,
  m: WireMessage,
  p: Extract<Pending, { kind: "nars" }>,
  pending: Map<number, Pending>,
  bulk: BulkOrigin | undefined,
): void {
  const index = p.next++;
  const hex = p.hashes[index]!;
  let reply: NarReply;
  if (m.kind === "nar") {
    if (hexEncode(m.narHash) !== hex) {
      throw new PeerFaultError(`${peer}: NAR ${hexEncode(m.narHash)} was not asked for`);
    }
    reply = { kind: "nar", message: m, ...(bulk ? { bulk } : {}) };
  } else if (m.kind === "not-found") {
    if (hexEncode(m.narHash) !== hex) {
      throw new PeerFaultError(`${peer}: not-found for a hash that was not asked for`);
    }
    reply = { kind: "not-found" };
  } else if (m.kind === "error") reply = { kind: "error", code: m.code, message: m.message };
  else throw new PeerFaultError(`${peer}: ${m.kind} in reply to get-nars`);
  if (p.next === p.hashes.length) {
    pending.delete(m.id);
    p.onReply(index, reply);
    p.resolve();
  } else {
    p.touch();
    p.onReply(index, reply);
  }
}

/**
 * Routes a reply to a `get-blocks` request to its handlers. A block or
 * answer that was not asked for is a {@linkcode PeerFaultError}; a block
 * cancelled but sent anyway is dropped.
 *
 * @example
 * ```ts
 * import { answerBlocks } from "./_replies.ts";
 * // for await (const msg of readFrames(...)) if (p.kind === "blocks") await answerBlocks(peer, msg, p, pending);
 * ```
 */
export async function answerBlocks(
  peer: string,
  msg: WireMessage,
  p: Extract<Pending, { kind: "blocks" }>,
  pending: Map<number, Pending>,
  bulk?: BulkOrigin,
): Promise<void> {
  if (msg.kind === "block") {
    const at = p.outstanding.indexOf(msg.index);
    if (at < 0) {
      if (p.all.has(msg.index)) return; // cancelled (or credited to an ERROR), sent anyway
      throw new PeerFaultError(`${peer}: block ${msg.index} was not requested in ${msg.id}`);
    }
    p.outstanding.splice(at, 1);
    if (p.outstanding.length === 0) pending.delete(msg.id);
    // The consumer's failure (its download ended, its entry went) is not the peer's fault
    // and must not reset a stream other items share.
    await Promise.resolve(p.handlers.block(msg, bulk)).catch(() => {});
  } else if (msg.kind === "error") {
    const index = p.outstanding.shift();
    if (p.outstanding.length === 0) pending.delete(msg.id);
    if (index !== undefined) p.handlers.error(index, msg.code);
  } else if (msg.kind === "not-found") {
    pending.delete(msg.id);
    for (const index of p.outstanding) p.handlers.error(index, "not-found");
  } else {
    throw new PeerFaultError(`${peer}: ${msg.kind} in reply to get-blocks`);
  }
}
