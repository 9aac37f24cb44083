/**
 * Upstream TLS connections for the connection pools: undici's connector
 * contract for HTTP/1.1 and a `createConnection` for node:http2, both
 * building their TLS options per connection so that a rotated certificate
 * or trust bundle reaches the next handshake. A handshake or verification
 * failure (or a missing secret) fails the connection with a clear error
 * (the pools report it as 503 UF).
 */
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { buildConnector } from 'undici';

/** Builds the TLS options of one new upstream connection for the offered ALPN; throws when impossible. */
export type TlsConnectOptions = (defaultAlpn: readonly string[]) => tls.ConnectionOptions;

/** Raised when an upstream TLS connection cannot be made (secret missing, handshake or SAN check failed). */
export class UpstreamTlsError extends Error {
  readonly code = 'UPSTREAM_TLS_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamTlsError';
  }
}

/** An undici `connect` function opening TLS with `build(alpn)` options, failing after `timeoutMs`. */
export function tlsConnector(
  build: TlsConnectOptions,
  alpn: readonly string[],
  timeoutMs: number,
): buildConnector.connector {
  return (args, callback) => {
    let options: tls.ConnectionOptions;
    try {
      options = build(alpn);
    } catch (cause) {
      callback(
        new UpstreamTlsError(`upstream TLS unavailable: ${(cause as Error).message}`, { cause }),
        null,
      );
      return;
    }
    let settled = false;
    const socket = tls.connect({
      ...options,
      host: args.hostname,
      port: Number(args.port),
      ...(args.localAddress ? { localAddress: args.localAddress } : {}),
    });
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        socket.destroy();
        callback(error, null);
      } else callback(null, socket);
    };
    const timer = setTimeout(
      () => settle(Object.assign(new Error('upstream connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
      timeoutMs,
    );
    timer.unref();
    socket.once('secureConnect', () => settle(null));
    socket.once('error', (error) =>
      settle(new UpstreamTlsError(`upstream TLS handshake failed: ${error.message}`, { cause: error })),
    );
  };
}

/** A node:http2 `createConnection` opening TLS (ALPN h2) with `build`; a failure errors the session. */
export function http2TlsConnection(
  build: TlsConnectOptions,
  address: string,
  port: number,
  localAddress: string | undefined,
): () => Duplex {
  return () => {
    try {
      return tls.connect({
        ...build(['h2']),
        ALPNProtocols: ['h2'],
        host: address,
        port,
        ...(localAddress ? { localAddress } : {}),
      });
    } catch (cause) {
      const failed = new Duplex({
        read() {},
        write(_c, _e, cb) {
          cb();
        },
      });
      const error = new UpstreamTlsError(`upstream TLS unavailable: ${(cause as Error).message}`, { cause });
      process.nextTick(() => failed.destroy(error));
      return failed;
    }
  };
}
