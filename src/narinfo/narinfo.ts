/**
 * The narinfo value type shared by Guix and Nix narinfos.
 *
 * @example
 * ```ts
 * import type { NarinfoContent } from "./narinfo.ts";
 * const info: NarinfoContent = {
 *   storePath: "/gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test",
 *   narHash: "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s",
 *   narSize: 1064,
 *   references: [],
 *   entries: [{ url: "nar/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test", compression: "none" }],
 * };
 * ```
 * @module
 */
import type { RecutilsField } from "./recutils.ts";

/** One way to download the nar: the `URL`, `Compression`, `FileSize`, `FileHash` at one position. */
export interface NarinfoEntry {
  /** `URL`: relative to the cache, or absolute (http, https, file). */
  readonly url: string;
  /** `Compression` at the same position; `undefined` makes the entry unusable for Guix. */
  readonly compression?: string | undefined;
  /** `FileSize` at the same position: size of the compressed download. */
  readonly fileSize?: number | undefined;
  /** `FileHash` at the same position, as written (e.g. `sha256:<nix32>`). */
  readonly fileHash?: string | undefined;
}

/** The fields of a narinfo, independent of its text (input of the serializers). */
export interface NarinfoContent {
  /** `StorePath`: the full store path. */
  readonly storePath: string;
  /** `NarHash` as written, e.g. `sha256:<52 nix32 chars>`. */
  readonly narHash: string;
  /** `NarSize`: size of the uncompressed nar. */
  readonly narSize: number;
  /** `References`: base names (`<hash>-<name>`), in file order. */
  readonly references: readonly string[];
  /** `Deriver`: base name of the `.drv`, if any. */
  readonly deriver?: string | undefined;
  /** `System`, if present. */
  readonly system?: string | undefined;
  /** `CA` (Nix content address), if present. Content-addressed paths are not trusted by us. */
  readonly ca?: string | undefined;
  /** The first `Signature` value (Guix: `1;<host>;<base64>`). */
  readonly signature?: string | undefined;
  /** Every `Sig` value (Nix: `<keyname>:<base64>`), in order. */
  readonly sigs?: readonly string[] | undefined;
  /** Download entries, zipped by position from `URL`/`Compression`/`FileSize`/`FileHash`. */
  readonly entries: readonly NarinfoEntry[];
}

/** A parsed narinfo: its fields plus the exact text they came from. */
export interface Narinfo extends NarinfoContent {
  /** The exact original text. */
  readonly text: string;
  /**
   * Guix's signed bytes: the text before the first occurrence of the substring
   * `Signature:`, or `undefined` when there is none.
   */
  readonly signedPrefix: string | undefined;
  /** The store directory of `storePath` (e.g. `/gnu/store`). */
  readonly storeDir: string;
  /** The 32-byte SHA-256 digest of `narHash`. */
  readonly narHashDigest: Uint8Array;
  /** Every `Sig` value (always present after parsing). */
  readonly sigs: readonly string[];
  /** Every field of the record, in order, with line numbers (unknown fields included). */
  readonly fields: readonly RecutilsField[];
}
