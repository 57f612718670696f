/**
 * Errors of the dashboard.
 *
 * @example
 * ```ts
 * import { DashboardListenError } from "./errors.ts";
 * new DashboardListenError("127.0.0.1:6880", "Address already in use");
 * ```
 * @module
 */

/** The dashboard's address could not be bound. */
export class DashboardListenError extends Error {
  /** The `HOST:PORT` that failed. */
  readonly listen: string;
  /** Creates the error naming the address and the cause. */
  constructor(listen: string, cause: string) {
    super(`cannot serve the dashboard on ${listen}: ${cause}`);
    this.name = "DashboardListenError";
    this.listen = listen;
  }
}
