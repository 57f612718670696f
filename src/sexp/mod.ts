/**
 * libgcrypt s-expressions: the value type, a parser for the canonical and
 * advanced forms, and printers that match libgcrypt byte for byte.
 *
 * @example
 * ```ts
 * import { findToken, parseSexp, printAdvanced } from "./mod.ts";
 * const key = parseSexp("(public-key (ecc (curve Ed25519) (q |AQI=|)))");
 * findToken(key, "q"); // the (q #0102#) list
 * printAdvanced(key); // "(public-key \n (ecc \n  (curve Ed25519)\n  (q #0102#)\n  )\n )\n"
 * ```
 * @module
 */
export { SexpError } from "./errors.ts";
export type { Sexp, SexpAtom, SexpList } from "./sexp.ts";
export { atom, atomIs, atomText, findToken, list, listHead, sexpEquals } from "./sexp.ts";
export { DEFAULT_MAX_SEXP_BYTES, DEFAULT_MAX_SEXP_DEPTH, parseSexp } from "./parse.ts";
export type { ParseSexpOptions } from "./parse.ts";
export {
  type AtomEncoding,
  atomEncoding,
  printAdvanced,
  printAdvancedBytes,
  printCanonical,
} from "./print.ts";
