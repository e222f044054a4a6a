/**
 * Errors of the link layer. Every message names the peer (and the tag where one is involved), so a
 * failure in a three-party run says which party failed and where.
 * @module
 */

/** The link is closed: the peer closed it, died, timed out, or sent something malformed. */
export class LinkClosedError extends Error {
  override readonly name: string = 'LinkClosedError';
  constructor(readonly peer: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No message arrived in time; the link is closed afterwards (protocol state is unrecoverable). */
export class LinkTimeoutError extends LinkClosedError {
  override readonly name: string = 'LinkTimeoutError';
}

/** The peer sent something other than what this side expected (wrong tag or size): a protocol desync. */
export class ProtocolError extends LinkClosedError {
  override readonly name: string = 'ProtocolError';
}

/**
 * The listener answered the hello with a refusal (a service that is busy or shutting down, an unknown
 * session): `retry` says whether the same request may succeed later.
 */
export class RefusedError extends LinkClosedError {
  override readonly name: string = 'RefusedError';
  constructor(peer: string, message: string, readonly retry: boolean) {
    super(peer, message);
  }
}

/** A frame header or length is malformed or over the size limit. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}
