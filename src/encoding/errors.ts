/**
 * Errors of the text encodings (nix32, hex, base64).
 * @module
 */

/** A string is not a valid encoding: bad character, bad length or non-zero overflow bits. */
export class EncodingError extends Error {
  /** Creates the error; `message` names the encoding, the position and the offending value. */
  constructor(message: string) {
    super(message);
    this.name = "EncodingError";
  }
}
