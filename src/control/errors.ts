/**
 * Errors of the helper <-> daemon control protocol.
 * @module
 */

/** The peer sent bytes that are not a valid frame or message (size, type, JSON, fields). */
export class ControlProtocolError extends Error {
  /** Creates the error naming what was malformed. */
  constructor(message: string) {
    super(message);
    this.name = "ControlProtocolError";
  }
}

/** The daemon socket could not be reached, or the connection ended or stalled. */
export class ControlConnectionError extends Error {
  /** Creates the error naming the socket and the cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ControlConnectionError";
  }
}

/** The daemon answered a request with an error reply. */
export class ControlRemoteError extends Error {
  /** The daemon's error code. */
  readonly code: string;
  /** Creates the error from the daemon's code and message. */
  constructor(code: string, message: string) {
    super(message);
    this.name = "ControlRemoteError";
    this.code = code;
  }
}
