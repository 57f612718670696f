/**
 * Quoting of offending values in error messages (private helper).
 *
 * @example
 * ```ts
 * import { quote } from "./_quote.ts";
 * quote("12x"); // '"12x"'
 * ```
 * @module
 */

/** JSON-quotes `text`, clipped to 80 characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
