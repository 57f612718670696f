/**
 * Block manifests (docs/protocol.md §3.3, §3.4): the block layout of a NAR,
 * the per-block SHA-256 list, validation against the signed NarHash/NarSize,
 * grouping of identical manifests across providers, and a one-pass
 * {@linkcode BlockHasher} that indexes a NAR while checking its NarHash.
 *
 * @example
 * ```ts
 * import { BlockHasher, validateManifest, verifyBlock } from "./manifest.ts";
 * const nar = new Uint8Array(40_000).fill(7);
 * const manifest = new BlockHasher(16384).update(nar).finish();
 * manifest.blockCount; // 3
 * validateManifest(manifest, { narHash: manifest.narHash, narSize: 40_000 }); // undefined: valid
 * verifyBlock(manifest, 2, nar.subarray(32768)); // true
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { Sha256, sha256 } from "../../hash/sha256.ts";
import { Bitfield } from "./bitfield.ts";

/** Smallest allowed block size: 16 KiB. */
export const MIN_BLOCK_SIZE = 16 * 1024;
/** Largest allowed block size: 4 MiB. */
export const MAX_BLOCK_SIZE = 4 * 1024 * 1024;
/** Default block size: 256 KiB. */
export const DEFAULT_BLOCK_SIZE = 256 * 1024;
/** Length of a SHA-256 digest (NarHash, block hash). */
export const HASH_LENGTH = 32;

/** The block layout and hashes of one NAR, as a responder advertises it. */
export interface Manifest {
  /** SHA-256 of the whole uncompressed NAR (32 bytes). */
  narHash: Uint8Array;
  /** NAR size in bytes. */
  narSize: number;
  /** Block size: a power of two in [16 KiB, 4 MiB]. */
  blockSize: number;
  /** `ceil(narSize / blockSize)`. */
  blockCount: number;
  /** Blocks the responder can serve now. */
  have: Bitfield;
  /** `blockCount` SHA-256 digests of the uncompressed blocks, concatenated. */
  hashes: Uint8Array;
  /**
   * The sender checked the whole NAR against the NarHash itself (it is a
   * source). Unset: it relays blocks of a download it has not verified yet,
   * so its manifest corroborates nothing (docs/protocol.md §3.4).
   */
  verified?: boolean;
}

/** The layout fields of a {@linkcode Manifest}. */
export type BlockLayout = Pick<Manifest, "narSize" | "blockSize" | "blockCount">;

/**
 * Whether `blockSize` is a power of two in [16 KiB, 4 MiB].
 *
 * @example
 * ```ts
 * import { isValidBlockSize } from "./manifest.ts";
 * [isValidBlockSize(262144), isValidBlockSize(100000)]; // [true, false]
 * ```
 */
export function isValidBlockSize(blockSize: number): boolean {
  return Number.isInteger(blockSize) && blockSize >= MIN_BLOCK_SIZE &&
    blockSize <= MAX_BLOCK_SIZE && (blockSize & (blockSize - 1)) === 0;
}

/**
 * `ceil(narSize / blockSize)`.
 * @throws {RangeError} on a negative or non-integer size, or a block size below 1.
 *
 * @example
 * ```ts
 * import { blockCountFor } from "./manifest.ts";
 * blockCountFor(262145, 262144); // 2
 * ```
 */
export function blockCountFor(narSize: number, blockSize: number): number {
  if (!Number.isSafeInteger(narSize) || narSize < 0) {
    throw new RangeError(`blockCountFor: NAR size must be a non-negative integer, got ${narSize}`);
  }
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) {
    throw new RangeError(`blockCountFor: block size must be a positive integer, got ${blockSize}`);
  }
  return Math.ceil(narSize / blockSize);
}

/**
 * The NAR bytes `[offset, offset + length)` that block `index` covers.
 * @throws {RangeError} if `index` is not in `[0, blockCount)`.
 *
 * @example
 * ```ts
 * import { blockRange } from "./manifest.ts";
 * blockRange({ narSize: 40000, blockSize: 16384, blockCount: 3 }, 2); // { offset: 32768, length: 7232 }
 * ```
 */
export function blockRange(layout: BlockLayout, index: number): { offset: number; length: number } {
  if (!Number.isInteger(index) || index < 0 || index >= layout.blockCount) {
    throw new RangeError(`blockRange: block ${index} out of range [0, ${layout.blockCount})`);
  }
  const offset = index * layout.blockSize;
  return { offset, length: Math.min(layout.blockSize, layout.narSize - offset) };
}

/** What the signed narinfo says about the NAR (§3.4: the only root of trust). */
export interface SignedNar {
  /** The signed NarHash digest (32 bytes). */
  narHash: Uint8Array;
  /** The signed NarSize. */
  narSize: number;
}

/**
 * Checks a manifest against the signed NarHash/NarSize and the layout rules
 * of §3.3. Returns the reason it is unacceptable, or undefined if it is valid.
 *
 * @example
 * ```ts
 * import { BlockHasher, validateManifest } from "./manifest.ts";
 * const m = new BlockHasher(16384).update(new Uint8Array(5)).finish();
 * validateManifest(m, { narHash: m.narHash, narSize: 6 }); // "NAR size 5 differs from the signed NarSize 6"
 * ```
 */
export function validateManifest(manifest: Manifest, signed: SignedNar): string | undefined {
  const { narHash, narSize } = manifest;
  if (!bytesEqual(narHash, signed.narHash)) {
    return `NAR hash ${hexEncode(narHash)} differs from the signed NarHash ${
      hexEncode(signed.narHash)
    }`;
  }
  if (narSize !== signed.narSize) {
    return `NAR size ${narSize} differs from the signed NarSize ${signed.narSize}`;
  }
  return checkManifestLayout(manifest);
}

/**
 * The layout rules of §3.3 alone (no signed values): 32-byte NAR hash,
 * block size, exact block count, hash-list and bitfield lengths. Returns the
 * first broken rule, or undefined.
 *
 * @example
 * ```ts
 * import { Bitfield } from "./bitfield.ts";
 * import { checkManifestLayout } from "./manifest.ts";
 * const m = { narHash: new Uint8Array(32), narSize: 1, blockSize: 16384, blockCount: 2,
 *   have: new Bitfield(2), hashes: new Uint8Array(64) };
 * checkManifestLayout(m); // "block count 2 is not ceil(1 / 16384) = 1"
 * ```
 */
export function checkManifestLayout(manifest: Manifest): string | undefined {
  const { narHash, narSize, blockSize, blockCount, have, hashes } = manifest;
  if (narHash.length !== HASH_LENGTH) {
    return `NAR hash is ${narHash.length} bytes, expected ${HASH_LENGTH}`;
  }
  if (!Number.isSafeInteger(narSize) || narSize < 0) {
    return `NAR size ${narSize} is not a non-negative integer`;
  }
  if (!isValidBlockSize(blockSize)) {
    return `block size ${blockSize} is not a power of two in [${MIN_BLOCK_SIZE}, ${MAX_BLOCK_SIZE}]`;
  }
  const expected = blockCountFor(narSize, blockSize);
  if (blockCount !== expected) {
    return `block count ${blockCount} is not ceil(${narSize} / ${blockSize}) = ${expected}`;
  }
  if (hashes.length !== blockCount * HASH_LENGTH) {
    return `hash list is ${hashes.length} bytes, expected ${blockCount} × 32 = ${
      blockCount * HASH_LENGTH
    }`;
  }
  if (have.size !== blockCount) {
    return `have-bitfield has ${have.size} bits, expected ${blockCount}`;
  }
  return undefined;
}

/**
 * A stable key of what a manifest claims: hex SHA-256 of
 * `u64 narSize | u32 blockSize | hashes`. Manifests with the same key describe
 * the same blocks; the have-bitfield is not part of it.
 *
 * @example
 * ```ts
 * import { BlockHasher, manifestKey } from "./manifest.ts";
 * const m = new BlockHasher(16384).update(new Uint8Array(5)).finish();
 * manifestKey(m).length; // 64
 * ```
 */
export function manifestKey(manifest: Manifest): string {
  const head = new Uint8Array(12);
  const view = new DataView(head.buffer);
  view.setBigUint64(0, BigInt(manifest.narSize));
  view.setUint32(8, manifest.blockSize);
  return hexEncode(new Sha256().update(head).update(manifest.hashes).digest());
}

/** Providers that sent the same manifest (same {@linkcode manifestKey}). */
export interface ManifestGroup {
  /** The shared {@linkcode manifestKey}. */
  key: string;
  /** The first member's manifest (layout and hashes are the same for all). */
  manifest: Manifest;
  /** One entry per distinct peer, in first-seen order; each keeps its own have-bitfield. */
  members: { peer: string; manifest: Manifest }[];
}

/**
 * Groups providers by identical manifest, largest group first (ties keep
 * first-seen order; break them by peer score). A peer listed twice with the
 * same manifest counts once (its latest manifest is kept).
 *
 * @example
 * ```ts
 * import { BlockHasher, groupManifests } from "./manifest.ts";
 * const m = new BlockHasher(16384).update(new Uint8Array(5)).finish();
 * groupManifests([{ peer: "a", manifest: m }, { peer: "b", manifest: m }])[0]!.members.length; // 2
 * ```
 */
export function groupManifests(list: { peer: string; manifest: Manifest }[]): ManifestGroup[] {
  const groups = new Map<string, ManifestGroup>();
  for (const entry of list) {
    const key = manifestKey(entry.manifest);
    let group = groups.get(key);
    if (!group) {
      group = { key, manifest: entry.manifest, members: [] };
      groups.set(key, group);
    }
    const at = group.members.findIndex((m) => m.peer === entry.peer);
    if (at === -1) group.members.push({ peer: entry.peer, manifest: entry.manifest });
    else group.members[at] = { peer: entry.peer, manifest: entry.manifest };
  }
  // Array.prototype.sort is stable: equal sizes keep first-seen order.
  return [...groups.values()].sort((a, b) => b.members.length - a.members.length);
}

/**
 * Whether `bytes` is block `index` of the manifest: right length and
 * SHA-256. False (never a throw) for an index outside the manifest.
 *
 * @example
 * ```ts
 * import { BlockHasher, verifyBlock } from "./manifest.ts";
 * const nar = new Uint8Array(20000).fill(1);
 * const m = new BlockHasher(16384).update(nar).finish();
 * [verifyBlock(m, 1, nar.subarray(16384)), verifyBlock(m, 1, nar.subarray(0, 3616))]; // [true, false]
 * ```
 */
export function verifyBlock(manifest: Manifest, index: number, bytes: Uint8Array): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= manifest.blockCount) return false;
  if (manifest.hashes.length < (index + 1) * HASH_LENGTH) return false;
  if (bytes.length !== blockRange(manifest, index).length) return false;
  const expected = manifest.hashes.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH);
  return bytesEqual(sha256(bytes), expected);
}

/**
 * Streaming indexer: feed the NAR in chunks of any size; `finish()` returns
 * the complete manifest (every block present) with the whole-NAR SHA-256, so
 * a seeder indexes an item in one pass and checks its NarHash at the same
 * time (compare with {@linkcode validateManifest}).
 *
 * @example
 * ```ts
 * import { BlockHasher } from "./manifest.ts";
 * const hasher = new BlockHasher(16384);
 * hasher.update(new Uint8Array(10000)).update(new Uint8Array(10000));
 * const m = hasher.finish(); // m.narSize === 20000, m.blockCount === 2, m.have.isFull
 * ```
 */
export class BlockHasher {
  /** The block size. */
  readonly blockSize: number;
  #whole = new Sha256();
  #block = new Sha256();
  #inBlock = 0;
  #digests: Uint8Array[] = [];
  #finished = false;

  /** @throws {RangeError} if `blockSize` is not a power of two in [16 KiB, 4 MiB]. */
  constructor(blockSize: number = DEFAULT_BLOCK_SIZE) {
    if (!isValidBlockSize(blockSize)) {
      throw new RangeError(
        `BlockHasher: block size ${blockSize} is not a power of two in [${MIN_BLOCK_SIZE}, ${MAX_BLOCK_SIZE}]`,
      );
    }
    this.blockSize = blockSize;
  }

  /** NAR bytes fed so far. */
  get narSize(): number {
    return this.#whole.byteLength;
  }

  /** Feeds the next NAR bytes; returns `this`. */
  update(chunk: Uint8Array): this {
    if (this.#finished) throw new Error("BlockHasher: update() after finish()");
    this.#whole.update(chunk);
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(this.blockSize - this.#inBlock, chunk.length - at);
      this.#block.update(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
      this.#inBlock += take;
      at += take;
      if (this.#inBlock === this.blockSize) this.#endBlock();
    }
    return this;
  }

  /** Ends the NAR and returns its manifest (all blocks marked present). Call once. */
  finish(): Manifest {
    if (this.#finished) throw new Error("BlockHasher: finish() called twice");
    this.#finished = true;
    if (this.#inBlock > 0) this.#endBlock();
    const blockCount = this.#digests.length;
    const hashes = new Uint8Array(blockCount * HASH_LENGTH);
    this.#digests.forEach((d, i) => hashes.set(d, i * HASH_LENGTH));
    return {
      narHash: this.#whole.digest(),
      narSize: this.#whole.byteLength,
      blockSize: this.blockSize,
      blockCount,
      have: Bitfield.full(blockCount),
      hashes,
      verified: true,
    };
  }

  #endBlock(): void {
    this.#digests.push(this.#block.digest());
    this.#block = new Sha256();
    this.#inBlock = 0;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
