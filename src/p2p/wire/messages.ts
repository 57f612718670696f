/**
 * Messages of the block-exchange protocol `/guix-p2p/blocks/2.0.0`
 * (docs/protocol.md §3.2), as a discriminated union on `kind`, with the
 * protocol's constants and limits.
 *
 * @example
 * ```ts
 * import type { WireMessage } from "./messages.ts";
 * const request: WireMessage = { kind: "get-blocks", id: 1, narHash: new Uint8Array(32), indexes: [0, 1] };
 * ```
 * @module
 */
import type { Manifest } from "./manifest.ts";

/** The libp2p protocol id of the block exchange. */
export const BLOCKS_PROTOCOL = "/guix-p2p/blocks/2.0.0";
/** The payload version byte. */
export const WIRE_VERSION = 2;
/** Default `max_message_size`: a frame's payload may not exceed 8 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 8 * 1024 * 1024;
/** Most indexes in one `GET_BLOCKS` or `CANCEL`. */
export const MAX_INDEXES = 256;
/** Most NarHashes in one `HAVE` (and states in its `HAVE_REPLY`). */
export const MAX_HAVE_HASHES = 1024;
/** Most NarHashes in one `GET_NARS`. */
export const MAX_NARS = 256;
/** Largest NAR a `NAR` message carries whole: 4 MiB (larger NARs go block by block). */
export const MAX_WHOLE_NAR = 4 * 1024 * 1024;
/** Most bytes of UTF-8 in an `ERROR` message. */
export const MAX_ERROR_MESSAGE_BYTES = 1024;
/** Bytes before the body: `u32 length | u8 version | u8 type | u32 id`. */
export const FRAME_HEADER_SIZE = 10;
/** Bytes of a `BLOCK` frame before its data: the frame header and `u32 | u8 | u32`. */
export const BLOCK_HEADER_SIZE = FRAME_HEADER_SIZE + 9;

/** Message type bytes (§3.2). */
export const MessageType = {
  GET_MANIFEST: 1,
  MANIFEST: 2,
  GET_BLOCKS: 3,
  BLOCK: 4,
  NOT_FOUND: 5,
  ERROR: 6,
  CANCEL: 7,
  HAVE: 8,
  HAVE_REPLY: 9,
  GET_NARS: 10,
  NAR: 11,
  BULK_OPEN: 12,
  BULK_TICKET: 13,
} as const;

/** Bytes of a bulk-lane ticket. */
export const BULK_TICKET_SIZE = 32;
/**
 * The first bytes a requester sends on a bulk-lane TCP connection, then its ticket; the
 * responder answers one byte, {@linkcode BULK_ACCEPTED}, or closes the connection.
 */
export const BULK_HELLO_MAGIC: Uint8Array = new TextEncoder().encode("GP2PBLK2");
/** The responder's byte accepting a bulk-lane ticket. */
export const BULK_ACCEPTED = 1;

/** What a responder can serve of one NAR (`HAVE_REPLY`). */
export type HaveState = "none" | "complete" | "partial";
/** The wire value of each {@linkcode HaveState}. */
export const HAVE_STATE_VALUES: Readonly<Record<HaveState, number>> = {
  none: 0,
  complete: 1,
  partial: 2,
};

/** `ERROR` codes by name. */
export type ErrorCode = "not-available" | "busy" | "bad-request" | "internal";
/** The wire value of each {@linkcode ErrorCode}. */
export const ERROR_CODE_VALUES: Readonly<Record<ErrorCode, number>> = {
  "not-available": 1,
  "busy": 2,
  "bad-request": 3,
  "internal": 4,
};

/** How a `BLOCK`'s data is encoded: the block itself, or one zstd frame of it. */
export type BlockEncoding = "raw" | "zstd";
/** The wire value of each {@linkcode BlockEncoding}. */
export const ENCODING_VALUES: Readonly<Record<BlockEncoding, number>> = { raw: 0, zstd: 1 };

/** Asks for the manifest of the NAR whose SHA-256 is `narHash`. */
export interface GetManifestMessage {
  /** Discriminant. */
  kind: "get-manifest";
  /** Request id (u32). */
  id: number;
  /** NarHash digest (32 bytes). */
  narHash: Uint8Array;
}

/** The responder's manifest for the item asked for. */
export interface ManifestMessage {
  /** Discriminant. */
  kind: "manifest";
  /** Id of the `get-manifest` it answers. */
  id: number;
  /** The manifest. */
  manifest: Manifest;
}

/** Asks for blocks of an item; answered by one `block` or `error` per index, in order. */
export interface GetBlocksMessage {
  /** Discriminant. */
  kind: "get-blocks";
  /** Request id (u32). */
  id: number;
  /** NarHash digest (32 bytes). */
  narHash: Uint8Array;
  /** 1 to 256 block indexes (u32; `< blockCount` is the responder's check). */
  indexes: number[];
}

/** One block. */
export interface BlockMessage {
  /** Discriminant. */
  kind: "block";
  /** Id of the `get-blocks` it answers. */
  id: number;
  /** Block index. */
  index: number;
  /** Encoding of `data`. */
  encoding: BlockEncoding;
  /** Length of the uncompressed block (at most 4 MiB). */
  rawLength: number;
  /** The block (raw) or one zstd frame of it. */
  data: Uint8Array;
}

/** The responder has nothing for this hash. */
export interface NotFoundMessage {
  /** Discriminant. */
  kind: "not-found";
  /** Id of the request it answers. */
  id: number;
  /** NarHash digest (32 bytes). */
  narHash: Uint8Array;
}

/** A request (or one index of a `get-blocks`) failed. */
export interface ErrorMessage {
  /** Discriminant. */
  kind: "error";
  /** Id of the request it answers. */
  id: number;
  /** What went wrong. */
  code: ErrorCode;
  /** Human-readable detail (at most 1024 bytes of UTF-8 on the wire). */
  message: string;
}

/** Drops the queued, not yet sent blocks of request `id`. */
export interface CancelMessage {
  /** Discriminant. */
  kind: "cancel";
  /** Id of the `get-blocks` to trim. */
  id: number;
  /** 1 to 256 block indexes. */
  indexes: number[];
}

/** Asks which of these NARs the responder can serve (one round trip for a whole closure). */
export interface HaveMessage {
  /** Discriminant. */
  kind: "have";
  /** Request id (u32). */
  id: number;
  /** 1 to 1024 NarHash digests (32 bytes each). */
  narHashes: Uint8Array[];
}

/** The answer to a `have`: one state per NarHash asked, in order. */
export interface HaveReplyMessage {
  /** Discriminant. */
  kind: "have-reply";
  /** Id of the `have` it answers. */
  id: number;
  /** `complete`: verified whole; `partial`: some blocks (still downloading); `none`. */
  states: HaveState[];
}

/** Asks for whole small NARs; answered by one `nar`, `not-found` or `error` per hash, in order. */
export interface GetNarsMessage {
  /** Discriminant. */
  kind: "get-nars";
  /** Request id (u32). */
  id: number;
  /** 1 to 256 NarHash digests. */
  narHashes: Uint8Array[];
}

/** One whole NAR of at most 4 MiB, raw or as one zstd frame. */
export interface NarMessage {
  /** Discriminant. */
  kind: "nar";
  /** Id of the `get-nars` it answers. */
  id: number;
  /** Its NarHash digest (the requester checks the bytes against it). */
  narHash: Uint8Array;
  /** Encoding of `data`. */
  encoding: BlockEncoding;
  /** The NAR's size (at most 4 MiB). */
  rawLength: number;
  /** The NAR or one zstd frame of it. */
  data: Uint8Array;
}

/**
 * Asks for a bulk lane (docs/protocol.md §3.7): a plain TCP connection for block data that
 * the ticket in the answer opens. Answered by `bulk-ticket` or `error`.
 */
export interface BulkOpenMessage {
  /** Discriminant. */
  kind: "bulk-open";
  /** Request id (u32). */
  id: number;
}

/** Where and with what to open the bulk lane: a TCP port on the responder's address. */
export interface BulkTicketMessage {
  /** Discriminant. */
  kind: "bulk-ticket";
  /** Id of the `bulk-open` it answers. */
  id: number;
  /** TCP port (1–65535) on the address this stream's connection reached. */
  port: number;
  /** 32 random bytes, good for one connection, for a short time. */
  ticket: Uint8Array;
}

/** Any message of the block exchange. */
export type WireMessage =
  | GetManifestMessage
  | ManifestMessage
  | GetBlocksMessage
  | BlockMessage
  | NotFoundMessage
  | ErrorMessage
  | CancelMessage
  | HaveMessage
  | HaveReplyMessage
  | GetNarsMessage
  | NarMessage
  | BulkOpenMessage
  | BulkTicketMessage;

/** Messages a requester sends. */
export type RequestMessage =
  | GetManifestMessage
  | GetBlocksMessage
  | CancelMessage
  | HaveMessage
  | GetNarsMessage
  | BulkOpenMessage;
/** Messages a responder sends. */
export type ResponseMessage =
  | ManifestMessage
  | BlockMessage
  | NotFoundMessage
  | ErrorMessage
  | HaveReplyMessage
  | NarMessage
  | BulkTicketMessage;

/** Which messages a decoder accepts: a responder reads requests, a requester responses. */
export type Accept = "requests" | "responses" | "any";

/**
 * Whether `kind` is sent by requesters.
 *
 * @example
 * ```ts
 * import { isRequestKind } from "./messages.ts";
 * [isRequestKind("cancel"), isRequestKind("block")]; // [true, false]
 * ```
 */
export function isRequestKind(kind: WireMessage["kind"]): boolean {
  return kind === "get-manifest" || kind === "get-blocks" || kind === "cancel" ||
    kind === "have" || kind === "get-nars" || kind === "bulk-open";
}
