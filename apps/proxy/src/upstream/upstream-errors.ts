/**
 * Upstream failures, one stable `code` each, as the router branches on them
 * for retries and response flags.
 */

export type UpstreamErrorCode =
  /** Could not connect (refused, unreachable, TLS handshake failed). Flag UF. */
  | 'CONNECT_FAILURE'
  /** The connect timeout passed. Flag UF. */
  | 'CONNECT_TIMEOUT'
  /** The connection or stream was reset after connecting. Flag UC (before a response) or UR. */
  | 'RESET'
  /** HTTP/2 REFUSED_STREAM. */
  | 'REFUSED_STREAM'
  /** The per-try or route timeout passed. Flag UT. */
  | 'TIMEOUT'
  /** The downstream went away; the attempt was cancelled. Flag DC. */
  | 'CANCELLED';

/** Why an upstream attempt failed. */
export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;

  constructor(code: UpstreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamError';
    this.code = code;
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Classifies an error from undici or node:http2 (`connected` = a connection had been established). */
export function classifyUpstreamError(error: unknown, connected: boolean): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return new UpstreamError('CONNECT_TIMEOUT', 'upstream connect timeout', { cause: error });
  if (typeof code === 'string' && CONNECT_CODES.has(code)) {
    return new UpstreamError('CONNECT_FAILURE', `upstream connect error: ${code}`, { cause: error });
  }
  if (code === 'ERR_HTTP2_STREAM_ERROR' && /REFUSED_STREAM/.test(message)) {
    return new UpstreamError('REFUSED_STREAM', 'upstream refused stream', { cause: error });
  }
  if (!connected)
    return new UpstreamError('CONNECT_FAILURE', `upstream connect error: ${message}`, { cause: error });
  return new UpstreamError('RESET', `upstream reset: ${message}`, { cause: error });
}
