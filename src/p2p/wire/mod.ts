/**
 * The block-exchange wire protocol `/guix-p2p/blocks/2.0.0`
 * (docs/protocol.md §3): messages, the frame encoder, the bounded
 * incremental decoder and stream reader, block compression and the
 * compressed-block cache. Pure: bytes in, values out.
 *
 * @example
 * ```ts
 * import { decodeBlock, encodeBlock, encodeFrameParts, readFrames } from "./mod.ts";
 * // Responder: send a block without copying it.
 * const raw = new TextEncoder().encode("some NAR bytes ".repeat(1000));
 * const { encoding, data } = encodeBlock(raw);
 * const parts = encodeFrameParts({ kind: "block", id: 1, index: 0, encoding, rawLength: raw.length, data });
 * // Requester: read messages and decode blocks.
 * for await (const m of readFrames(parts, { accept: "responses" })) {
 *   if (m.kind === "block") decodeBlock(m.encoding, m.data, m.rawLength); // equals raw
 * }
 * ```
 * @module
 */
export { BlockCodecError, WireError } from "./errors.ts";
export {
  type Accept,
  BLOCK_HEADER_SIZE,
  type BlockEncoding,
  type BlockMessage,
  BLOCKS_PROTOCOL,
  BULK_ACCEPTED,
  BULK_HELLO_MAGIC,
  BULK_TICKET_SIZE,
  type BulkOpenMessage,
  type BulkTicketMessage,
  type CancelMessage,
  DEFAULT_MAX_MESSAGE_SIZE,
  ENCODING_VALUES,
  ERROR_CODE_VALUES,
  type ErrorCode,
  type ErrorMessage,
  FRAME_HEADER_SIZE,
  type GetBlocksMessage,
  type GetManifestMessage,
  type GetNarsMessage,
  HAVE_STATE_VALUES,
  type HaveMessage,
  type HaveReplyMessage,
  type HaveState,
  isRequestKind,
  type ManifestMessage,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_HAVE_HASHES,
  MAX_INDEXES,
  MAX_NARS,
  MAX_WHOLE_NAR,
  MessageType,
  type NarMessage,
  type NotFoundMessage,
  type RequestMessage,
  type ResponseMessage,
  WIRE_VERSION,
  type WireMessage,
} from "./messages.ts";
export {
  encodeBlockHeader,
  encodeFrame,
  encodeFrameParts,
  encodeNarHeader,
  type EncodeOptions,
} from "./encode.ts";
export { decodeFrame, type DecodeOptions, FrameDecoder } from "./decode.ts";
export { type ChunkLike, readFrames, type ReadFramesOptions } from "./read.ts";
export {
  decodeBlock,
  DEFAULT_MIN_SAVINGS,
  DEFAULT_ZSTD_LEVEL,
  encodeBlock,
  type EncodeBlockOptions,
  type EncodedBlock,
  MAX_WINDOW_LOG,
} from "./block_codec.ts";
export {
  type BlockCacheStats,
  CompressedBlockCache,
  type CompressedBlockCacheOptions,
  ENTRY_OVERHEAD,
} from "./block_cache.ts";
export { Bitfield } from "./bitfield.ts";
export {
  BlockHasher,
  blockRange,
  DEFAULT_BLOCK_SIZE,
  type Manifest,
  MAX_BLOCK_SIZE,
  MIN_BLOCK_SIZE,
  validateManifest,
  verifyBlock,
} from "./manifest.ts";
