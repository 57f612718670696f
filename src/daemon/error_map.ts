/**
 * The one place where daemon errors become control-protocol error codes.
 *
 * @example
 * ```ts
 * import { mapDaemonError } from "./error_map.ts";
 * mapDaemonError(new Error("boom")); // { code: "internal", message: "boom" }
 * ```
 * @module
 */
import { ControlProtocolError } from "../control/errors.ts";
import type { ErrorCode } from "../control/messages.ts";
import { EncodingError } from "../encoding/errors.ts";
import { NarHashMismatchError, NoSourceError } from "../fetch/errors.ts";
import { StorePathError } from "../store/errors.ts";

/** A request the daemon refuses (e.g. an unknown store path or a NarHash that disagrees with the narinfo). */
export class BadRequestError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "BadRequestError";
  }
}

/** Maps an error thrown while serving a request to its protocol reply. */
export function mapDaemonError(error: unknown): { code: ErrorCode; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NoSourceError) return { code: "not-found", message };
  if (error instanceof NarHashMismatchError) return { code: "hash-mismatch", message };
  if (
    error instanceof BadRequestError || error instanceof StorePathError ||
    error instanceof EncodingError || error instanceof ControlProtocolError
  ) {
    return { code: "bad-request", message };
  }
  return { code: "internal", message };
}
