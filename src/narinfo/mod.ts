/**
 * Narinfos, Guix and Nix: one strict parser keeping the exact text and Guix's
 * signed prefix, serializers for the `guix publish` (current and old) and
 * `nix copy` layouts, and the choice of the nar download.
 *
 * @example
 * ```ts
 * import { chooseNarinfoEntry, formatGuixNarinfo, parseNarinfo } from "./mod.ts";
 * const text = "StorePath: /gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test\n" +
 *   "NarHash: sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s\n" +
 *   "NarSize: 1064\nReferences: \n" +
 *   "URL: nar/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test\nCompression: none\n";
 * const info = parseNarinfo(text);
 * chooseNarinfoEntry(info.entries, { supportedCompressions: ["none"] })?.url;
 * formatGuixNarinfo(info) === text; // true
 * ```
 * @module
 */
export { NarinfoError } from "./errors.ts";
export type { NarinfoLocation } from "./errors.ts";
export type { Narinfo, NarinfoContent, NarinfoEntry } from "./narinfo.ts";
export { parseRecutils } from "./recutils.ts";
export type { RecutilsField, RecutilsRecord } from "./recutils.ts";
export { MULTI_VALUED_FIELDS, parseNarinfo, SIGNATURE_MARKER } from "./parse.ts";
export type { ParseNarinfoOptions } from "./parse.ts";
export {
  formatGuixNarinfo,
  formatNixNarinfo,
  guixOldSignedBlock,
  guixSignedBlock,
} from "./serialize.ts";
export type { GuixNarinfoLayout } from "./serialize.ts";
export {
  chooseNarinfoEntry,
  KNOWN_COMPRESSIONS,
  preferredNarinfoEntries,
  resolveNarUrl,
} from "./choose.ts";
export type { ChooseEntryOptions } from "./choose.ts";
