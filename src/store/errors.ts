/**
 * Errors of store-path handling.
 * @module
 */

/** A string is not a valid store path, base name or store name. */
export class StorePathError extends Error {
  /** Creates the error; the message names the path and what is wrong with it. */
  constructor(message: string) {
    super(message);
    this.name = "StorePathError";
  }
}
