/**
 * Connection pools to one upstream host: weft's HTTP/1.1 client
 * (http1-client.ts: keep-alive, no pipelining) or one node:http2 session for HTTP/2 and
 * gRPC. Both expose the same streaming `send(request, handler)` contract
 * with backpressure (`pause`/`resume`) and cancellation (`abort`).
 */
import http2 from 'node:http2';
import type { Readable } from 'node:stream';
import { buildConnector } from 'undici';
import { http2TlsConnection, type TlsConnectOptions, tlsConnector } from '../tls/upstream-connector.ts';
import { Http1Client } from './http1-client.ts';
import { classifyUpstreamError, UpstreamError } from './upstream-errors.ts';

/** Outgoing header values; names lowercased. */
export type OutgoingHeaders = Record<string, string | string[]>;

export interface UpstreamRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Authority sent as Host / :authority. */
  readonly authority: string;
  /** Without Host and hop-by-hop headers. */
  readonly headers: OutgoingHeaders;
  /** A buffered body (replayable for retries), a stream, or none. */
  readonly body: Buffer | Readable | AsyncIterable<Buffer> | null;
}

/** Receives one upstream response. Exactly one of onEnd or onError is called last. */
export interface UpstreamHandler {
  /** The request got a connection (it stops being pending for circuit breaking). */
  onStart?(): void;
  onHeaders(status: number, headers: Record<string, string | string[] | undefined>): void;
  /** Returns false to ask for a pause (backpressure); call the control's resume later. */
  onData(chunk: Buffer): boolean;
  onEnd(trailers: Record<string, string | string[] | undefined>): void;
  onError(error: UpstreamError): void;
}

/** Controls one in-flight upstream request. */
export interface UpstreamControl {
  pause(): void;
  resume(): void;
  abort(error: UpstreamError): void;
}

export interface UpstreamPoolOptions {
  readonly address: string;
  readonly port: number;
  readonly http2: boolean;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  readonly tls: { readonly sni: string | undefined; readonly alpn: readonly string[] } | undefined;
  /** Mesh TLS (certificates and verification from the identity agent): per-connection TLS options. */
  readonly tlsConnect?: TlsConnectOptions | undefined;
  /** Local IP to bind connections to (the cluster's upstreamBindConfig). */
  readonly localAddress?: string | undefined;
}

/** Pool of connections to one host. `close` lets in-flight requests finish. */
export interface UpstreamPool {
  send(request: UpstreamRequest, handler: UpstreamHandler): UpstreamControl;
  /** Open connections (HTTP/2: 0 or 1). */
  readonly connections: number;
  close(): Promise<void>;
}

export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  return options.http2 ? new Http2Pool(options) : new Http1Pool(options);
}

/**
 * A pool whose every request fails to connect (flag UF) with `reason`: the
 * host's transport is one Weft cannot originate yet (e.g. Istio mTLS).
 */
export function createUnavailablePool(reason: string): UpstreamPool {
  const error = new UpstreamError('CONNECT_FAILURE', `upstream transport unavailable: ${reason}`);
  return {
    connections: 0,
    send(_request, handler) {
      queueMicrotask(() => handler.onError(error));
      return { pause() {}, resume() {}, abort() {} };
    },
    close: async () => {},
  };
}

function origin(options: UpstreamPoolOptions): string {
  const host = options.address.includes(':') ? `[${options.address}]` : options.address;
  return `${options.tls ? 'https' : 'http'}://${host}:${options.port}`;
}

/** HTTP/1.1 over weft's own keep-alive client (http1-client.ts); connections from undici's connectors. */
class Http1Pool implements UpstreamPool {
  private readonly client: Http1Client;

  constructor(options: UpstreamPoolOptions) {
    const tls = options.tls;
    const base = buildConnector({
      timeout: options.connectTimeoutMs,
      // Envoy verifies the server only when a validation context is configured; Weft does not support one yet.
      ...(tls ? { rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] } : {}),
    });
    // SNI comes from the cluster's UpstreamTlsContext.sni only (as Envoy without auto_sni), never from Host.
    const connector: buildConnector.connector = options.tlsConnect
      ? tlsConnector(options.tlsConnect, ['http/1.1'], options.connectTimeoutMs)
      : tls
        ? (opts, callback) => base({ ...opts, servername: tls.sni ?? '' }, callback)
        : base;
    this.client = new Http1Client({
      connector,
      connectOptions: {
        hostname: options.address,
        host: `${options.address.includes(':') ? `[${options.address}]` : options.address}:${options.port}`,
        protocol: tls ? 'https:' : 'http:',
        port: String(options.port),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      maxConnections: options.maxConnections,
      keepAliveTimeoutMs: 60_000,
    });
  }

  get connections(): number {
    return this.client.connections;
  }

  send(request: UpstreamRequest, handler: UpstreamHandler): UpstreamControl {
    return this.client.send(request, handler);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

const HOP_BY_HOP_H2 = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

class Http2Pool implements UpstreamPool {
  private readonly options: UpstreamPoolOptions;
  private session: http2.ClientHttp2Session | undefined;

  constructor(options: UpstreamPoolOptions) {
    this.options = options;
  }

  get connections(): number {
    return this.session && !this.session.destroyed ? 1 : 0;
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const options = this.options;
    const session = http2.connect(origin(options), {
      ...(options.tlsConnect
        ? {
            createConnection: http2TlsConnection(
              options.tlsConnect,
              options.address,
              options.port,
              options.localAddress,
            ),
          }
        : {}),
      ...(options.tls && !options.tlsConnect
        ? { servername: options.tls.sni, rejectUnauthorized: false, ALPNProtocols: ['h2'] }
        : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      session.destroy(new UpstreamError('CONNECT_TIMEOUT', 'upstream connect timeout'));
    }, options.connectTimeoutMs);
    timer.unref();
    session.once('connect', () => clearTimeout(timer));
    session.once('close', () => {
      clearTimeout(timer);
      if (this.session === session) this.session = undefined;
    });
    session.once('goaway', () => {
      if (this.session === session) this.session = undefined;
    });
    // Errors reach each stream; the session-level listener only prevents an unhandled 'error'.
    session.on('error', () => {});
    this.session = session;
    return session;
  }

  send(request: UpstreamRequest, handler: UpstreamHandler): UpstreamControl {
    const session = this.connect();
    const headers: http2.OutgoingHttpHeaders = {
      ':method': request.method,
      ':path': request.path,
      ':authority': request.authority,
      ':scheme': this.options.tls ? 'https' : 'http',
    };
    for (const [name, value] of Object.entries(request.headers)) {
      if (!HOP_BY_HOP_H2.has(name) && !(name === 'te' && value !== 'trailers')) headers[name] = value;
    }
    const endStream = request.body === null || (Buffer.isBuffer(request.body) && request.body.length === 0);
    let connected = !session.connecting;
    if (connected) queueMicrotask(() => handler.onStart?.());
    else
      session.once('connect', () => {
        connected = true;
        handler.onStart?.();
      });
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      fn();
    };
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream });
    } catch (error) {
      queueMicrotask(() => finish(() => handler.onError(classifyUpstreamError(error, false))));
      return { pause() {}, resume() {}, abort() {} };
    }
    stream.on('response', (responseHeaders) => {
      const status = Number(responseHeaders[':status']);
      if (status < 200) return;
      const out: Record<string, string | string[] | undefined> = {};
      for (const [k, v] of Object.entries(responseHeaders)) if (k[0] !== ':') out[k] = v as string | string[];
      handler.onHeaders(status, out);
    });
    let trailers: Record<string, string | string[] | undefined> = {};
    stream.on('trailers', (t) => {
      trailers = {};
      for (const [k, v] of Object.entries(t)) if (k[0] !== ':') trailers[k] = v as string | string[];
    });
    stream.on('data', (chunk: Buffer) => {
      if (!handler.onData(chunk)) stream.pause();
    });
    stream.on('end', () => finish(() => handler.onEnd(trailers)));
    stream.on('error', (error) => finish(() => handler.onError(classifyUpstreamError(error, connected))));
    stream.on('close', () => {
      if (!done && stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
        const code = stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? 'REFUSED_STREAM' : 'RESET';
        finish(() =>
          handler.onError(new UpstreamError(code, `upstream reset: http2 code ${stream.rstCode}`)),
        );
      } else if (!done) {
        finish(() =>
          handler.onError(
            new UpstreamError(connected ? 'RESET' : 'CONNECT_FAILURE', 'upstream stream closed'),
          ),
        );
      }
    });
    if (!endStream) writeBody(stream, request.body);
    return {
      pause: () => stream.pause(),
      resume: () => stream.resume(),
      abort: () => {
        if (done) return;
        finish(() => {});
        stream.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }

  close(): Promise<void> {
    const session = this.session;
    if (!session || session.destroyed) return Promise.resolve();
    return new Promise((resolve) => session.close(() => resolve()));
  }
}

function writeBody(stream: http2.ClientHttp2Stream, body: UpstreamRequest['body']): void {
  if (body === null) return;
  if (Buffer.isBuffer(body)) {
    stream.end(body);
    return;
  }
  const source = body as Readable & AsyncIterable<Buffer>;
  if (typeof source.pipe === 'function') {
    source.pipe(stream);
    return;
  }
  const pump = async (): Promise<void> => {
    for await (const chunk of source)
      if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
    stream.end();
  };
  pump().catch((error: unknown) => stream.destroy(error as Error));
}
