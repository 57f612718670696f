/**
 * A resumable LZMA ("LZMA1") decoder, written from the format description
 * (range coder, literal/match/rep coding, length and distance coders), for the
 * lzip container (`lc=3, lp=0, pb=2`, end-of-stream marker) and usable with
 * any `lc`/`lp`/`pb`.
 *
 * Speed matters here: the hot loop keeps the whole coder state in local
 * variables, decodes bits inline with 32-bit integer arithmetic, and writes
 * straight into the sliding window. The caller owns input buffering and output
 * flushing:
 * - input is read from `input[inPos..]`; a symbol is only started while at
 *   least {@linkcode LZMA_MAX_SYMBOL_BYTES} bytes are available, so the
 *   decoder never reads past the data it was given;
 * - output goes into the circular window `dict`; {@linkcode LzmaDecoder.run}
 *   stops at a window position the caller chooses, so output can be copied
 *   out before it is overwritten; a match cut by that limit is resumed on the
 *   next call.
 *
 * @example
 * ```ts
 * import { LzmaDecoder } from "./_lzma.ts";
 * const dec = new LzmaDecoder(3, 0, 2);
 * dec.startMember(1 << 16, 1 << 16);
 * // dec.input = bytes; dec.inPos = 0; dec.initRangeCoder(); dec.run(limit, inputEnd) ...
 * ```
 * @module
 */

/**
 * The most input bytes one LZMA symbol can consume: 22 probability-coded bits
 * shrink the range by at most log2(2048/31) bits each, 26 direct bits by one
 * bit each, and the range stays within [2^24, 2^32) between symbols, so at
 * most (8 + 22 * 6.05 + 26) / 8 < 21 bytes are shifted in.
 */
export const LZMA_MAX_SYMBOL_BYTES = 20;

/** Distance value of the end-of-stream (and sync-flush) marker. */
const MARKER_DISTANCE = 0xffffffff;

// Probability array layout (11-bit probabilities, all initialised to 1024).
const NUM_STATES = 12;
const IS_MATCH = 0; // [state << 4 | posState]
const IS_REP = IS_MATCH + (NUM_STATES << 4);
const IS_REP_G0 = IS_REP + NUM_STATES;
const IS_REP_G1 = IS_REP_G0 + NUM_STATES;
const IS_REP_G2 = IS_REP_G1 + NUM_STATES;
const IS_REP0_LONG = IS_REP_G2 + NUM_STATES; // [state << 4 | posState]
const POS_SLOT = IS_REP0_LONG + (NUM_STATES << 4); // [lenState][64]
const SPEC_POS = POS_SLOT + (4 << 6); // distances of slots 4..13, 115 entries (+1 unused)
const ALIGN = SPEC_POS + 116; // [16]
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2; // [posState][8]
const LEN_MID = LEN_LOW + (16 << 3); // [posState][8]
const LEN_HIGH = LEN_MID + (16 << 3); // [256]
const LEN_CODER_SIZE = LEN_HIGH + 256;
const MATCH_LEN = ALIGN + 16;
const REP_LEN = MATCH_LEN + LEN_CODER_SIZE;
const LITERAL = REP_LEN + LEN_CODER_SIZE; // [0x300 << (lc + lp)]

const TOP = 0x1000000;
const PROB_INIT = 1024;

/** Why {@linkcode LzmaDecoder.run} returned: {@linkcode LZMA_PAUSED} or {@linkcode LZMA_END}. */
export type LzmaRun = 0 | 1;
/** `run` reached the output limit, or fewer than 20 input bytes are left: call again. */
export const LZMA_PAUSED = 0;
/** `run` decoded an end marker (see `markerLength`). */
export const LZMA_END = 1;

/**
 * Bad LZMA data; `inPos` is the decoder's input position when it was found.
 *
 * @example
 * ```ts
 * import { LzmaDataError } from "./_lzma.ts";
 * const e = new LzmaDataError("match distance 5 reaches beyond the 2 bytes decoded", 17);
 * e.inPos; // 17
 * ```
 */
export class LzmaDataError extends Error {
  /** Input position (in the decoder's `input`) where the problem was found. */
  readonly inPos: number;

  /** Creates the error. */
  constructor(message: string, inPos: number) {
    super(message);
    this.name = "LzmaDataError";
    this.inPos = inPos;
  }
}

/**
 * The decoder state. Fields are public for the container code (lzip, LZMA2).
 *
 * @example
 * ```ts
 * import { LZMA_END, LzmaDecoder } from "./_lzma.ts";
 * declare const data: Uint8Array; // LZMA data with an end marker, plus >= 20 more bytes
 * const dec = new LzmaDecoder(3, 0, 2);
 * dec.startMember(1 << 16, 1 << 16);
 * dec.input = data;
 * dec.inPos = 0;
 * dec.initRangeCoder();
 * while (dec.run(dec.dict.length, data.length) !== LZMA_END) {
 *   // copy dec.dict[...dec.dictPos] out, wrap dictPos at dict.length
 * }
 * ```
 */
export class LzmaDecoder {
  /** Literal context bits. */
  lc = 3;
  /** Literal position bits. */
  lp = 0;
  /** Position bits. */
  pb = 2;
  /** The probabilities. */
  probs: Uint16Array;

  /** Input bytes; the caller refills it and sets `inPos`. */
  input: Uint8Array = new Uint8Array(0);
  /** Next input byte to read. */
  inPos = 0;

  /** The circular window; its length is a multiple of 16 so `pos & 15 == dictPos & 15`. */
  dict: Uint8Array = new Uint8Array(0);
  /** Next window position to write. */
  dictPos = 0;
  /** True once the window wrapped since `startMember` (all of `dict` is history). */
  wrapped = false;
  /** The dictionary size distances are checked against. */
  dictSize = 0;

  /**
   * Range coder and distance registers: `[range, code, rep0, rep1, rep2,
   * rep3]`. Unsigned 32-bit values live in a typed array rather than in
   * fields, so that values above 2^31 do not change the object's field
   * representation (which deoptimises the hot loop).
   */
  readonly regs: Uint32Array = new Uint32Array(6);
  state = 0;
  /** Bytes of a match still to copy, cut by the previous output limit. */
  pendingLength = 0;
  /** Length (2 or 3) of the last marker, once `run` returned `End`. */
  markerLength = 0;

  /** Creates a decoder for the given literal/position parameters. */
  constructor(lc: number, lp: number, pb: number) {
    this.probs = new Uint16Array(0);
    this.setProperties(lc, lp, pb);
  }

  /**
   * Changes `lc`/`lp`/`pb` (LZMA2 may, between chunks); call `resetState`
   * afterwards.
   */
  setProperties(lc: number, lp: number, pb: number): void {
    if (lc < 0 || lc > 8 || lp < 0 || lp > 4 || pb < 0 || pb > 4) {
      throw new RangeError(`invalid LZMA properties lc=${lc} lp=${lp} pb=${pb}`);
    }
    this.lc = lc;
    this.lp = lp;
    this.pb = pb;
    const size = LITERAL + (0x300 << (lc + lp));
    if (this.probs.length < size) this.probs = new Uint16Array(size);
  }

  /**
   * Resets everything for a new stream: probabilities, state, distances and
   * the window. `windowSize` (the bytes of window to keep, at most
   * `dictSize`) is rounded up to a multiple of 16; the window is reused when
   * it is already large enough.
   */
  startMember(dictSize: number, windowSize: number): void {
    const size = Math.max(16, Math.ceil(windowSize / 16) * 16);
    if (this.dict.length < size) this.dict = new Uint8Array(size);
    this.dictSize = dictSize;
    this.dictPos = 0;
    this.wrapped = false;
    this.resetState();
  }

  /** Resets probabilities, state and distances (keeps the window). */
  resetState(): void {
    this.probs.fill(PROB_INIT);
    this.state = 0;
    this.regs.fill(0);
    this.pendingLength = 0;
    this.markerLength = 0;
  }

  /**
   * Reads the 5 range-coder start bytes at `inPos` (the caller ensures they
   * are there). Throws {@linkcode LzmaDataError} when the first byte is not 0
   * or the start code is out of range (no encoder produces either).
   */
  initRangeCoder(): void {
    const input = this.input;
    const p = this.inPos;
    if (input[p] !== 0) {
      throw new LzmaDataError(`first byte of the LZMA data is 0x${hex2(input[p]!)}, not 0`, p);
    }
    const code = ((input[p + 1]! << 24) | (input[p + 2]! << 16) | (input[p + 3]! << 8) |
      input[p + 4]!) >>> 0;
    if (code === 0xffffffff) throw new LzmaDataError("range coder start code out of range", p);
    this.regs[0] = 0xffffffff;
    this.regs[1] = code;
    this.inPos = p + 5;
  }

  /**
   * Decodes until the window position reaches `outLimit` (at most
   * `dict.length`), the end marker is decoded, or fewer than
   * {@linkcode LZMA_MAX_SYMBOL_BYTES} input bytes remain before `inEnd`.
   * Throws {@linkcode LzmaDataError} on a distance beyond the decoded data or
   * the dictionary.
   */
  run(outLimit: number, inEnd: number): LzmaRun {
    const probs = this.probs;
    const input = this.input;
    const dict = this.dict;
    const dictLength = dict.length;
    const lc = this.lc;
    const literalShift = 8 - lc;
    const lpMask = (1 << this.lp) - 1;
    const pbMask = (1 << this.pb) - 1;
    const inLimit = inEnd - LZMA_MAX_SYMBOL_BYTES;
    const dictCheck = Math.min(this.dictSize, dictLength);
    const wrapped = this.wrapped;

    const regs = this.regs;
    let range = regs[0]!;
    let code = regs[1]!;
    let rep0 = regs[2]!;
    let rep1 = regs[3]!;
    let rep2 = regs[4]!;
    let rep3 = regs[5]!;
    let inPos = this.inPos;
    let dictPos = this.dictPos;
    let state = this.state;
    let result: LzmaRun = LZMA_PAUSED;

    // Finish a match cut by the previous output limit.
    let len = this.pendingLength;
    if (len > 0) {
      let src = dictPos - rep0 - 1;
      if (src < 0) src += dictLength;
      let n = Math.min(len, outLimit - dictPos);
      len -= n;
      while (n-- > 0) {
        dict[dictPos++] = dict[src++]!;
        if (src === dictLength) src = 0;
      }
      this.pendingLength = len;
    }

    let i = 0;
    let p = 0;
    let bound = 0;
    let symbol = 0;
    while (dictPos < outLimit && inPos <= inLimit) {
      const posState = dictPos & pbMask;
      // is_match
      i = IS_MATCH + (state << 4) + posState;
      p = probs[i]!;
      bound = Math.imul(range >>> 11, p) >>> 0;
      if (code < bound) {
        range = bound;
        probs[i] = p + ((2048 - p) >>> 5);
        if (range < TOP) {
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[inPos++]!) >>> 0;
        }
        // Literal.
        const prev = dictPos > 0 ? dict[dictPos - 1]! : wrapped ? dict[dictLength - 1]! : 0;
        const base = LITERAL + 0x300 * (((dictPos & lpMask) << lc) + (prev >>> literalShift));
        symbol = 1;
        if (state >= 7) {
          let src = dictPos - rep0 - 1;
          if (src < 0) src += dictLength;
          let matchByte = dict[src]!;
          let offs = 0x100;
          do {
            matchByte <<= 1;
            const matchBit = matchByte & offs;
            i = base + offs + matchBit + symbol;
            p = probs[i]!;
            bound = Math.imul(range >>> 11, p) >>> 0;
            if (code < bound) {
              range = bound;
              probs[i] = p + ((2048 - p) >>> 5);
              symbol <<= 1;
              offs &= ~matchBit;
            } else {
              range = (range - bound) >>> 0;
              code = (code - bound) >>> 0;
              probs[i] = p - (p >>> 5);
              symbol = (symbol << 1) | 1;
              offs &= matchBit;
            }
            if (range < TOP) {
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[inPos++]!) >>> 0;
            }
          } while (symbol < 0x100);
        } else {
          do {
            i = base + symbol;
            p = probs[i]!;
            bound = Math.imul(range >>> 11, p) >>> 0;
            if (code < bound) {
              range = bound;
              probs[i] = p + ((2048 - p) >>> 5);
              symbol <<= 1;
            } else {
              range = (range - bound) >>> 0;
              code = (code - bound) >>> 0;
              probs[i] = p - (p >>> 5);
              symbol = (symbol << 1) | 1;
            }
            if (range < TOP) {
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[inPos++]!) >>> 0;
            }
          } while (symbol < 0x100);
        }
        dict[dictPos++] = symbol & 0xff;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      range = (range - bound) >>> 0;
      code = (code - bound) >>> 0;
      probs[i] = p - (p >>> 5);
      if (range < TOP) {
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[inPos++]!) >>> 0;
      }

      // is_rep
      i = IS_REP + state;
      p = probs[i]!;
      bound = Math.imul(range >>> 11, p) >>> 0;
      let lenBase: number;
      if (code < bound) {
        // Simple match: a new distance follows the length.
        range = bound;
        probs[i] = p + ((2048 - p) >>> 5);
        if (range < TOP) {
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[inPos++]!) >>> 0;
        }
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        state = state < 7 ? 7 : 10;
        lenBase = MATCH_LEN;
      } else {
        range = (range - bound) >>> 0;
        code = (code - bound) >>> 0;
        probs[i] = p - (p >>> 5);
        if (range < TOP) {
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[inPos++]!) >>> 0;
        }
        // is_rep_g0
        i = IS_REP_G0 + state;
        p = probs[i]!;
        bound = Math.imul(range >>> 11, p) >>> 0;
        if (code < bound) {
          range = bound;
          probs[i] = p + ((2048 - p) >>> 5);
          if (range < TOP) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[inPos++]!) >>> 0;
          }
          // is_rep0_long
          i = IS_REP0_LONG + (state << 4) + posState;
          p = probs[i]!;
          bound = Math.imul(range >>> 11, p) >>> 0;
          if (code < bound) {
            // Short rep: one byte at distance rep0.
            range = bound;
            probs[i] = p + ((2048 - p) >>> 5);
            if (range < TOP) {
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[inPos++]!) >>> 0;
            }
            if (rep0 >= (wrapped ? dictCheck : dictPos)) {
              this.inPos = inPos;
              throw distanceError(rep0, dictPos, wrapped, dictCheck, inPos);
            }
            let src = dictPos - rep0 - 1;
            if (src < 0) src += dictLength;
            dict[dictPos++] = dict[src]!;
            state = state < 7 ? 9 : 11;
            continue;
          }
          range = (range - bound) >>> 0;
          code = (code - bound) >>> 0;
          probs[i] = p - (p >>> 5);
          if (range < TOP) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[inPos++]!) >>> 0;
          }
        } else {
          range = (range - bound) >>> 0;
          code = (code - bound) >>> 0;
          probs[i] = p - (p >>> 5);
          if (range < TOP) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[inPos++]!) >>> 0;
          }
          let dist: number;
          // is_rep_g1
          i = IS_REP_G1 + state;
          p = probs[i]!;
          bound = Math.imul(range >>> 11, p) >>> 0;
          if (code < bound) {
            range = bound;
            probs[i] = p + ((2048 - p) >>> 5);
            dist = rep1;
          } else {
            range = (range - bound) >>> 0;
            code = (code - bound) >>> 0;
            probs[i] = p - (p >>> 5);
            if (range < TOP) {
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[inPos++]!) >>> 0;
            }
            // is_rep_g2
            i = IS_REP_G2 + state;
            p = probs[i]!;
            bound = Math.imul(range >>> 11, p) >>> 0;
            if (code < bound) {
              range = bound;
              probs[i] = p + ((2048 - p) >>> 5);
              dist = rep2;
            } else {
              range = (range - bound) >>> 0;
              code = (code - bound) >>> 0;
              probs[i] = p - (p >>> 5);
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          if (range < TOP) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[inPos++]!) >>> 0;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        state = state < 7 ? 8 : 11;
        lenBase = REP_LEN;
      }

      // Length: choice bits, then a 3-bit (low, mid) or 8-bit (high) tree.
      let treeBase: number;
      let treeLimit: number;
      let lenOffset: number;
      i = lenBase + LEN_CHOICE;
      p = probs[i]!;
      bound = Math.imul(range >>> 11, p) >>> 0;
      if (code < bound) {
        range = bound;
        probs[i] = p + ((2048 - p) >>> 5);
        treeBase = lenBase + LEN_LOW + (posState << 3);
        treeLimit = 8;
        lenOffset = 0;
      } else {
        range = (range - bound) >>> 0;
        code = (code - bound) >>> 0;
        probs[i] = p - (p >>> 5);
        if (range < TOP) {
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[inPos++]!) >>> 0;
        }
        i = lenBase + LEN_CHOICE2;
        p = probs[i]!;
        bound = Math.imul(range >>> 11, p) >>> 0;
        if (code < bound) {
          range = bound;
          probs[i] = p + ((2048 - p) >>> 5);
          treeBase = lenBase + LEN_MID + (posState << 3);
          treeLimit = 8;
          lenOffset = 8;
        } else {
          range = (range - bound) >>> 0;
          code = (code - bound) >>> 0;
          probs[i] = p - (p >>> 5);
          treeBase = lenBase + LEN_HIGH;
          treeLimit = 256;
          lenOffset = 16;
        }
      }
      if (range < TOP) {
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[inPos++]!) >>> 0;
      }
      symbol = 1;
      do {
        i = treeBase + symbol;
        p = probs[i]!;
        bound = Math.imul(range >>> 11, p) >>> 0;
        if (code < bound) {
          range = bound;
          probs[i] = p + ((2048 - p) >>> 5);
          symbol <<= 1;
        } else {
          range = (range - bound) >>> 0;
          code = (code - bound) >>> 0;
          probs[i] = p - (p >>> 5);
          symbol = (symbol << 1) | 1;
        }
        if (range < TOP) {
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[inPos++]!) >>> 0;
        }
      } while (symbol < treeLimit);
      len = symbol - treeLimit + lenOffset; // 0..271; the match is len + 2 bytes

      if (lenBase === MATCH_LEN) {
        // Distance: a 6-bit slot, then reverse-tree or direct + align bits.
        const slotBase = POS_SLOT + ((len < 3 ? len : 3) << 6);
        symbol = 1;
        do {
          i = slotBase + symbol;
          p = probs[i]!;
          bound = Math.imul(range >>> 11, p) >>> 0;
          if (code < bound) {
            range = bound;
            probs[i] = p + ((2048 - p) >>> 5);
            symbol <<= 1;
          } else {
            range = (range - bound) >>> 0;
            code = (code - bound) >>> 0;
            probs[i] = p - (p >>> 5);
            symbol = (symbol << 1) | 1;
          }
          if (range < TOP) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[inPos++]!) >>> 0;
          }
        } while (symbol < 64);
        const slot = symbol - 64;
        if (slot < 4) {
          rep0 = slot;
        } else {
          const directBits = (slot >>> 1) - 1;
          let dist = ((2 | (slot & 1)) << directBits) >>> 0;
          if (slot < 14) {
            const revBase = SPEC_POS + dist - slot;
            let m = 1;
            for (let bit = 0; bit < directBits; bit++) {
              i = revBase + m;
              p = probs[i]!;
              bound = Math.imul(range >>> 11, p) >>> 0;
              if (code < bound) {
                range = bound;
                probs[i] = p + ((2048 - p) >>> 5);
                m <<= 1;
              } else {
                range = (range - bound) >>> 0;
                code = (code - bound) >>> 0;
                probs[i] = p - (p >>> 5);
                m = (m << 1) | 1;
                dist += 1 << bit;
              }
              if (range < TOP) {
                range = (range << 8) >>> 0;
                code = ((code << 8) | input[inPos++]!) >>> 0;
              }
            }
          } else {
            let direct = 0;
            for (let n = directBits - 4; n > 0; n--) {
              range >>>= 1;
              if (code >= range) {
                code = (code - range) >>> 0;
                direct = (direct << 1) | 1;
              } else {
                direct <<= 1;
              }
              if (range < TOP) {
                range = (range << 8) >>> 0;
                code = ((code << 8) | input[inPos++]!) >>> 0;
              }
            }
            dist = (dist + ((direct << 4) >>> 0)) >>> 0;
            let m = 1;
            for (let bit = 0; bit < 4; bit++) {
              i = ALIGN + m;
              p = probs[i]!;
              bound = Math.imul(range >>> 11, p) >>> 0;
              if (code < bound) {
                range = bound;
                probs[i] = p + ((2048 - p) >>> 5);
                m <<= 1;
              } else {
                range = (range - bound) >>> 0;
                code = (code - bound) >>> 0;
                probs[i] = p - (p >>> 5);
                m = (m << 1) | 1;
                dist += 1 << bit;
              }
              if (range < TOP) {
                range = (range << 8) >>> 0;
                code = ((code << 8) | input[inPos++]!) >>> 0;
              }
            }
            dist >>>= 0;
          }
          rep0 = dist;
          if (dist === MARKER_DISTANCE) {
            this.markerLength = len + 2;
            len = 0;
            result = LZMA_END;
            break;
          }
        }
      }

      // Copy len + 2 bytes from distance rep0.
      if (rep0 >= (wrapped ? dictCheck : dictPos)) {
        this.inPos = inPos;
        throw distanceError(rep0, dictPos, wrapped, dictCheck, inPos);
      }
      len += 2;
      let src = dictPos - rep0 - 1;
      if (src < 0) src += dictLength;
      let n = outLimit - dictPos;
      if (n > len) n = len;
      len -= n;
      if (src + n <= dictPos) {
        // Source entirely behind the destination, no wrap: the ranges may still overlap
        // only when rep0 + 1 < n, which the byte loop handles; copyWithin is for long runs.
        if (n >= 32 && rep0 + 1 >= n) {
          dict.copyWithin(dictPos, src, src + n);
          dictPos += n;
        } else {
          while (n-- > 0) dict[dictPos++] = dict[src++]!;
        }
      } else {
        while (n-- > 0) {
          dict[dictPos++] = dict[src++]!;
          if (src === dictLength) src = 0;
        }
      }
      if (len > 0) {
        this.pendingLength = len;
        break;
      }
    }

    regs[0] = range;
    regs[1] = code;
    regs[2] = rep0;
    regs[3] = rep1;
    regs[4] = rep2;
    regs[5] = rep3;
    this.inPos = inPos;
    this.dictPos = dictPos;
    this.state = state;
    return result;
  }
}

function distanceError(
  dist: number,
  dictPos: number,
  wrapped: boolean,
  dictCheck: number,
  inPos: number,
): LzmaDataError {
  const available = wrapped ? `the ${dictCheck}-byte dictionary` : `the ${dictPos} bytes decoded`;
  return new LzmaDataError(`match distance ${dist + 1} reaches beyond ${available}`, inPos);
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
