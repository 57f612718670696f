/**
 * Errors of the HTTP substitute client.
 * @module
 */

/** The server answered with an unexpected status. */
export class HttpStatusError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** Creates the error naming the URL and status. */
  constructor(url: string, status: number, statusText = "") {
    super(`${url}: HTTP ${status}${statusText ? ` ${statusText}` : ""}`);
    this.name = "HttpStatusError";
    this.status = status;
  }
}

/** Connecting, receiving headers, or receiving the next body bytes took too long. */
export class HttpTimeoutError extends Error {
  /** Creates the error naming the URL and the phase. */
  constructor(message: string) {
    super(message);
    this.name = "HttpTimeoutError";
  }
}

/** The connection failed (refused, reset, DNS, TLS, truncated body...). */
export class HttpNetworkError extends Error {
  /** Creates the error naming the URL and cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HttpNetworkError";
  }
}
