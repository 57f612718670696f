/**
 * A zstd framing checker: walks frame headers, block headers and checksums
 * (RFC 8878 §3.1) without decoding, so that truncated input, trailing garbage
 * and empty input are detected. Deno 2.9.6's `node:zlib` zstd decoder accepts
 * all three silently.
 *
 * @example
 * ```ts
 * import { ZstdFrameChecker } from "./_zstd_frames.ts";
 * const checker = new ZstdFrameChecker();
 * const pieces = checker.feed(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])); // [magic]
 * // checker.end() would throw: the frame is truncated
 * ```
 * @module
 */
import { DecompressionError } from "./errors.ts";

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** Block_Maximum_Size: no block's content exceeds 128 KiB. */
const MAX_BLOCK_SIZE = 128 * 1024;

const enum Step {
  /** Collecting the 4-byte magic number. */
  Magic,
  /** Collecting the 4-byte size of a skippable frame. */
  SkipSize,
  /** Collecting the frame header descriptor. */
  Descriptor,
  /** Collecting the rest of the frame header. */
  Header,
  /** Collecting a 3-byte block header. */
  BlockHeader,
  /** Skipping `remaining` bytes (block content, skippable frame, checksum). */
  Skip,
}

/**
 * Follows the frame structure of a zstd stream; throws on anything malformed.
 *
 * @example
 * ```ts
 * import { ZstdFrameChecker } from "./_zstd_frames.ts";
 * const checker = new ZstdFrameChecker();
 * for (const piece of checker.feed(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]))) {
 *   void piece; // hand each piece to the decoder in its own write
 * }
 * ```
 */
export class ZstdFrameChecker {
  #step = Step.Magic;
  #offset = 0;
  /** Bytes still to skip, or still to collect into `#field`. */
  #remaining = 4;
  #field = 0;
  #fieldBytes = 0;
  #frames = 0;
  #lastBlock = false;
  #checksum = false;
  /** Inside a zstd frame (after its magic number, before its end). */
  #inFrame = false;
  /** Step after the current `Skip`. */
  #afterSkip = Step.Magic;

  /** Number of complete frames seen (skippable frames included). */
  get frames(): number {
    return this.#frames;
  }

  /**
   * Checks the next input bytes; throws a {@linkcode DecompressionError} on
   * bad framing. Returns the bytes to hand to the decoder: split so that no
   * piece spans two frames, with skippable frames left out (Deno 2.9.6's
   * streaming zstd decoder drops whatever follows the end of a frame within
   * the same write).
   */
  feed(chunk: Uint8Array): Uint8Array[] {
    const pieces: Uint8Array[] = [];
    let emitFrom = this.#inFrame ? 0 : -1;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#step === Step.Skip) {
        const take = Math.min(this.#remaining, n - i);
        i += take;
        this.#offset += take;
        this.#remaining -= take;
      } else {
        // Collect one little-endian byte of the current field.
        this.#field += chunk[i]! * 2 ** (8 * this.#fieldBytes);
        this.#fieldBytes++;
        i++;
        this.#offset++;
        this.#remaining--;
      }
      if (this.#remaining > 0) continue;
      const framesBefore = this.#frames;
      const wasInFrame = this.#inFrame;
      if (this.#step === Step.Skip) this.#finishSkip();
      else this.#fieldDone();
      if (!wasInFrame && this.#inFrame) {
        pieces.push(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]));
        emitFrom = i;
      } else if (wasInFrame && this.#frames > framesBefore) {
        pieces.push(chunk.subarray(emitFrom, i));
        emitFrom = -1;
      }
    }
    if (emitFrom >= 0 && emitFrom < n) pieces.push(chunk.subarray(emitFrom, n));
    return pieces;
  }

  /** The input ended: throws unless it ended exactly after a complete frame. */
  end(): void {
    if (this.#frames === 0 && this.#offset === 0) {
      throw new DecompressionError("zstd", "empty input, expected a zstd frame", { offset: 0 });
    }
    if (this.#step !== Step.Magic || this.#fieldBytes !== 0) {
      throw new DecompressionError("zstd", "input is truncated inside a frame", {
        offset: this.#offset,
      });
    }
  }

  #endFrame(): void {
    this.#frames++;
    this.#inFrame = false;
  }

  #collect(step: Step, bytes: number): void {
    this.#step = step;
    this.#remaining = bytes;
    this.#field = 0;
    this.#fieldBytes = 0;
  }

  #skip(bytes: number, then: Step): void {
    this.#field = 0;
    this.#fieldBytes = 0;
    if (bytes === 0) {
      this.#afterSkip = then;
      this.#finishSkip();
      return;
    }
    this.#step = Step.Skip;
    this.#remaining = bytes;
    this.#afterSkip = then;
  }

  #finishSkip(): void {
    if (this.#afterSkip === Step.Magic) this.#endFrame();
    if (this.#afterSkip === Step.BlockHeader && this.#lastBlock) {
      if (this.#checksum) {
        this.#checksum = false;
        this.#skip(4, Step.Magic);
        return;
      }
      this.#endFrame();
      this.#collect(Step.Magic, 4);
      return;
    }
    this.#collect(this.#afterSkip, this.#afterSkip === Step.BlockHeader ? 3 : 4);
  }

  #fieldDone(): void {
    const value = this.#field;
    const start = this.#offset - this.#fieldBytes;
    switch (this.#step) {
      case Step.Magic:
        if (value === ZSTD_MAGIC) {
          this.#inFrame = true;
          this.#collect(Step.Descriptor, 1);
        } else if (((value & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) {
          this.#collect(Step.SkipSize, 4);
        } else {
          const what = this.#frames === 0
            ? "not a zstd frame"
            : "trailing data after the last frame";
          throw new DecompressionError(
            "zstd",
            `${what}: magic number 0x${value.toString(16).padStart(8, "0")}`,
            { offset: start },
          );
        }
        return;
      case Step.SkipSize:
        this.#skip(value, Step.Magic);
        return;
      case Step.Descriptor: {
        if (value & 0x08) {
          throw new DecompressionError(
            "zstd",
            `reserved bit set in frame header descriptor 0x${value.toString(16)}`,
            { offset: start },
          );
        }
        const fcsFlag = value >> 6;
        const singleSegment = (value >> 5) & 1;
        this.#checksum = ((value >> 2) & 1) === 1;
        const dictIdBytes = [0, 1, 2, 4][value & 3]!;
        const fcsBytes = [singleSegment, 2, 4, 8][fcsFlag]!;
        const rest = (singleSegment ? 0 : 1) + dictIdBytes + fcsBytes;
        this.#lastBlock = false;
        this.#skip(rest, Step.BlockHeader);
        return;
      }
      case Step.BlockHeader: {
        this.#lastBlock = (value & 1) === 1;
        const type = (value >> 1) & 3;
        const size = value >>> 3;
        if (type === 3) {
          throw new DecompressionError("zstd", "reserved block type 3", { offset: start });
        }
        if (size > MAX_BLOCK_SIZE) {
          throw new DecompressionError(
            "zstd",
            `block size ${size} exceeds the maximum of ${MAX_BLOCK_SIZE}`,
            { offset: start },
          );
        }
        this.#skip(type === 1 ? 1 : size, Step.BlockHeader);
        return;
      }
      default:
        throw new Error(`unreachable zstd checker step ${this.#step}`);
    }
  }
}
