/**
 * The one place where substitution errors become status lines for guix-daemon.
 *
 * @example
 * ```ts
 * import { statusFor } from "./status.ts";
 * statusFor(new NoSubstituteError("no valid substitute for /gnu/store/…")); // "failed no-substitute …\n"
 * ```
 * @module
 */
import {
  ControlConnectionError,
  ControlProtocolError,
  ControlRemoteError,
} from "../control/errors.ts";
import { HashMismatchError, NoSubstituteError, RequestError } from "./errors.ts";
import { failureLine, hashMismatchLine } from "./replies.ts";

/** The status line reporting `error` (never `success`). */
export function statusFor(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof HashMismatchError) return hashMismatchLine(error.expected, error.actual);
  if (error instanceof NoSubstituteError) return failureLine("no-substitute", message);
  if (error instanceof RequestError) return failureLine("bad-request", message);
  // NAR errors by name: query mode never loads the NAR code.
  if (error instanceof Error && error.name === "NarFormatError") {
    return failureLine("bad-nar", message);
  }
  if (error instanceof Error && error.name === "NarRestoreError") {
    return failureLine("restore-failed", message);
  }
  if (error instanceof ControlRemoteError) {
    if (error.code === "not-found") return failureLine("no-substitute", message);
    if (error.code === "hash-mismatch") return failureLine("download-failed", message);
    return failureLine(`daemon-${error.code}`, message);
  }
  if (error instanceof ControlConnectionError || error instanceof ControlProtocolError) {
    return failureLine("daemon-unavailable", message);
  }
  return failureLine("internal-error", message);
}
