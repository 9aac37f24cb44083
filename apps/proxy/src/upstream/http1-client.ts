/**
 * HTTP/1.1 connections to one upstream host, on raw sockets: keep-alive,
 * no pipelining (one request per connection at a time), at most
 * `maxConnections` open, requests queued beyond that. It replaces undici's
 * Pool on the proxy's hot path: the request head is one string written in
 * one call, the response is parsed by `Http1ResponseParser` straight into
 * the router's `UpstreamHandler`, and nothing per request is allocated
 * beyond the exchange itself and the response headers object.
 *
 * Connections come from an undici-style connector (plain TCP or the TLS
 * connectors of `tls/upstream-connector.ts`), so connect timeouts and TLS
 * behave as before. Idle connections are kept LIFO (the warmest first) and
 * dropped after `keepAliveTimeoutMs` or the server's `Keep-Alive:
 * timeout=N` hint minus one second, whichever is shorter.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { buildConnector } from 'undici';
import { Http1ResponseParser, type ResponseHeaders, type ResponseSink } from './http1-response-parser.ts';
import { classifyUpstreamError, UpstreamError } from './upstream-errors.ts';
import type { UpstreamControl, UpstreamHandler, UpstreamRequest } from './upstream-pool.ts';

export interface Http1ClientOptions {
  /** Opens one connection (plain or TLS); its errors are classified as connect failures. */
  readonly connector: buildConnector.connector;
  readonly connectOptions: buildConnector.Options;
  readonly maxConnections: number;
  /** Idle connections are closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Milliseconds clock for idle ages (default Date.now). */
  readonly now?: () => number;
}

/** Methods whose requests carry a body: a bodiless one gets `content-length: 0`, as undici sends. */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** Headers the client writes itself, never copied from the request's. */
const OWN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
]);
const KEEP_ALIVE_HINT = /timeout=(\d+)/i;

/** One request on this client, from `send` to its end; the router's control over it. */
class Http1Exchange implements UpstreamControl {
  readonly client: Http1Client;
  readonly request: UpstreamRequest;
  readonly handler: UpstreamHandler;
  readonly head: string;
  /** Stream bodies without a content-length go chunked. */
  readonly chunked: boolean;
  connection: Http1Connection | undefined;
  done = false;

  constructor(
    client: Http1Client,
    request: UpstreamRequest,
    handler: UpstreamHandler,
    head: string,
    chunked: boolean,
  ) {
    this.client = client;
    this.request = request;
    this.handler = handler;
    this.head = head;
    this.chunked = chunked;
  }

  pause(): void {
    this.connection?.pause();
  }

  resume(): void {
    this.connection?.resume();
  }

  abort(error: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    const connection = this.connection;
    if (connection) connection.abandon();
    else this.client.dequeue(this);
    this.handler.onError(error);
  }

  /** Ends the exchange with an error (once). */
  fail(error: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    this.handler.onError(error);
  }
}

/** One keep-alive connection; the parser's sink for the response in progress. */
class Http1Connection implements ResponseSink {
  readonly socket: Socket;
  private readonly client: Http1Client;
  private readonly parser: Http1ResponseParser;
  exchange: Http1Exchange | undefined;
  idleSince = 0;
  keepAliveMs: number;
  /** False once the connection must not carry another request. */
  reusable = true;
  closed = false;
  private bodyDone = true;
  /** Inside parser.execute: a finished connection is released only after the chunk is consumed. */
  private executing = false;
  private releasePending = false;
  private lastError: Error | undefined;
  private lastHint: string | undefined;
  private paused = false;
  private body: BodyWriter | undefined;

  constructor(client: Http1Client, socket: Socket, keepAliveMs: number) {
    this.client = client;
    this.socket = socket;
    this.keepAliveMs = keepAliveMs;
    this.parser = new Http1ResponseParser(this);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error: Error) => {
      this.lastError = error;
    });
    socket.on('close', () => this.onClose());
  }

  /** Stops reading responses (backpressure from downstream). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  /** Reads again; a no-op unless paused (resuming a flowing socket is not free). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Sends `exchange`'s request on this (idle, open) connection. */
  assign(exchange: Http1Exchange): void {
    this.exchange = exchange;
    exchange.connection = this;
    this.parser.expect(exchange.request.method === 'HEAD');
    exchange.handler.onStart?.();
    if (exchange.done) return;
    const body = exchange.request.body;
    const socket = this.socket;
    if (body === null) {
      this.bodyDone = true;
      socket.write(exchange.head, 'latin1');
    } else if (Buffer.isBuffer(body)) {
      this.bodyDone = true;
      socket.cork();
      socket.write(exchange.head, 'latin1');
      if (body.length > 0) socket.write(body);
      socket.uncork();
    } else {
      this.bodyDone = false;
      socket.write(exchange.head, 'latin1');
      this.body = new BodyWriter(this, body, exchange.chunked);
    }
  }

  /** The request body was written in full. */
  onBodyDone(): void {
    this.body = undefined;
    this.bodyDone = true;
  }

  /** The request body failed (its source errored): the exchange fails, the connection closes. */
  onBodyError(error: Error): void {
    this.body = undefined;
    this.exchange?.fail(classifyUpstreamError(error, true));
    this.abandon();
  }

  /** Drops the exchange in progress and closes the connection (abort, protocol error). */
  abandon(): void {
    this.body?.stop();
    this.body = undefined;
    this.exchange = undefined;
    this.reusable = false;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.executing = true;
    const error = this.parser.execute(chunk);
    this.executing = false;
    if (error) {
      // Bytes after a finished response make the connection unusable too (no pipelining).
      this.releasePending = false;
      const exchange = this.exchange;
      this.abandon();
      exchange?.fail(
        new UpstreamError('RESET', `upstream protocol error: ${error.message}`, { cause: error }),
      );
      return;
    }
    if (this.releasePending) {
      this.releasePending = false;
      this.client.release(this);
    }
  }

  onResponseHead(status: number, headers: ResponseHeaders): void {
    const hint = headers['keep-alive'];
    // Servers repeat the same hint on every response: parse it once per connection.
    if (typeof hint === 'string' && hint !== this.lastHint) {
      this.lastHint = hint;
      const seconds = KEEP_ALIVE_HINT.exec(hint);
      if (seconds) {
        const ms = Number(seconds[1]) * 1000 - 1000;
        if (ms <= 0) this.reusable = false;
        else if (ms < this.keepAliveMs) this.keepAliveMs = ms;
      }
    }
    const exchange = this.exchange;
    if (exchange && !exchange.done) exchange.handler.onHeaders(status, headers);
  }

  onResponseBody(chunk: Buffer): void {
    const exchange = this.exchange;
    if (exchange && !exchange.done && !exchange.handler.onData(chunk)) this.pause();
  }

  onResponseEnd(trailers: ResponseHeaders, keepAlive: boolean): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    if (!keepAlive || !this.bodyDone) this.reusable = false;
    if (!this.bodyDone) {
      // The upstream answered before the whole body was sent: stop sending, and close.
      this.body?.stop();
      this.body = undefined;
    }
    if (exchange && !exchange.done) {
      exchange.done = true;
      exchange.connection = undefined;
      exchange.handler.onEnd(trailers);
    }
    if (this.executing) this.releasePending = true;
    else this.client.release(this);
  }

  private onEnd(): void {
    if (this.exchange && this.parser.endsAtClose) {
      // A close-delimited body ends here; onResponseEnd releases (and closes) the connection.
      this.parser.finish();
      return;
    }
    this.socket.destroy();
  }

  private onClose(): void {
    this.closed = true;
    this.body?.stop();
    this.body = undefined;
    const exchange = this.exchange;
    this.exchange = undefined;
    this.client.remove(this);
    if (exchange && !exchange.done) {
      exchange.fail(classifyUpstreamError(this.lastError ?? new Error('upstream connection closed'), true));
    }
  }
}

/** Streams a Readable (or async iterable) request body with backpressure, raw or chunked. */
class BodyWriter {
  private readonly connection: Http1Connection;
  private readonly source: Readable | undefined;
  private readonly chunked: boolean;
  private stopped = false;
  private readonly onData = (chunk: Buffer): void => this.write(chunk);
  private readonly onEnd = (): void => this.end();
  private readonly onError = (error: Error): void => {
    if (this.stopped) return;
    this.stop();
    this.connection.onBodyError(error);
  };
  private readonly onDrain = (): void => {
    if (!this.stopped) this.source?.resume();
  };

  constructor(connection: Http1Connection, body: Readable | AsyncIterable<Buffer>, chunked: boolean) {
    this.connection = connection;
    this.chunked = chunked;
    if (typeof (body as Readable).on === 'function') {
      const source = body as Readable;
      this.source = source;
      source.on('data', this.onData);
      source.once('end', this.onEnd);
      source.once('error', this.onError);
      source.resume();
    } else {
      this.source = undefined;
      this.pump(body as AsyncIterable<Buffer>).catch(this.onError);
    }
  }

  private async pump(body: AsyncIterable<Buffer>): Promise<void> {
    const socket = this.connection.socket;
    for await (const chunk of body) {
      if (this.stopped) return;
      if (!this.writeChunk(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    this.end();
  }

  private write(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (!this.writeChunk(chunk)) {
      this.source?.pause();
      this.connection.socket.once('drain', this.onDrain);
    }
  }

  private writeChunk(chunk: Buffer): boolean {
    const socket = this.connection.socket;
    if (!this.chunked) return socket.write(chunk);
    socket.cork();
    socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    const more = socket.write('\r\n', 'latin1');
    socket.uncork();
    return more;
  }

  private end(): void {
    if (this.stopped) return;
    this.stop();
    if (this.chunked) this.connection.socket.write('0\r\n\r\n', 'latin1');
    this.connection.onBodyDone();
  }

  /** Stops reading the source (the exchange ended or was dropped). Safe to repeat. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const source = this.source;
    if (source) {
      source.off('data', this.onData);
      source.off('end', this.onEnd);
      source.off('error', this.onError);
    }
    this.connection.socket.off('drain', this.onDrain);
  }
}

/** Builds the request head, or undefined when a header would break the message (CR, LF or NUL). */
export function requestHead(request: UpstreamRequest, framing: string): string | undefined {
  let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${request.authority}\r\n`;
  let lines = 2;
  const headers = request.headers;
  for (const name in headers) {
    if (OWN_HEADERS.has(name)) continue;
    const value = headers[name]!;
    if (typeof value === 'string') {
      head += `${name}: ${value}\r\n`;
      lines++;
    } else {
      for (const item of value) head += `${name}: ${item}\r\n`;
      lines += value.length;
    }
  }
  // The framing line (if any) and the empty line that ends the head.
  head += `${framing}\r\n`;
  lines += framing ? 2 : 1;
  // Every line ends in CRLF: any other CR, LF or a NUL came from a value or name.
  return countOf(head, '\n') === lines && countOf(head, '\r') === lines && !head.includes('\0')
    ? head
    : undefined;
}

function countOf(text: string, char: string): number {
  let n = 0;
  for (let i = text.indexOf(char); i >= 0; i = text.indexOf(char, i + 1)) n++;
  return n;
}

/** The framing header for `request`'s body: content-length, chunked, or none. */
function framingOf(request: UpstreamRequest): { framing: string; chunked: boolean } {
  const body = request.body;
  if (body === null) {
    const length = request.headers['content-length'];
    if (length !== undefined) return { framing: `content-length: ${length}\r\n`, chunked: false };
    return { framing: PAYLOAD_METHODS.has(request.method) ? 'content-length: 0\r\n' : '', chunked: false };
  }
  if (Buffer.isBuffer(body)) return { framing: `content-length: ${body.length}\r\n`, chunked: false };
  const length = request.headers['content-length'];
  if (typeof length === 'string') return { framing: `content-length: ${length}\r\n`, chunked: false };
  return { framing: 'transfer-encoding: chunked\r\n', chunked: true };
}

/** Connections to one host. */
export class Http1Client {
  private readonly options: Http1ClientOptions;
  private readonly now: () => number;
  private readonly idle: Http1Connection[] = [];
  private readonly queue: Http1Exchange[] = [];
  /** Open and connecting connections. */
  private total = 0;
  private open = 0;
  private closing = false;
  private onClosed: Array<() => void> = [];
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: Http1ClientOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Open connections. */
  get connections(): number {
    return this.open;
  }

  send(request: UpstreamRequest, handler: UpstreamHandler): UpstreamControl {
    const { framing, chunked } = framingOf(request);
    const head = requestHead(request, framing);
    const exchange = new Http1Exchange(this, request, handler, head ?? '', chunked);
    if (head === undefined || this.closing) {
      const reason = head === undefined ? 'invalid request header (CR, LF or NUL)' : 'connection pool closed';
      queueMicrotask(() =>
        exchange.fail(new UpstreamError('CONNECT_FAILURE', `upstream request refused: ${reason}`)),
      );
      return exchange;
    }
    const connection = this.takeIdle();
    if (connection) connection.assign(exchange);
    else {
      this.queue.push(exchange);
      if (this.total < this.options.maxConnections) this.connect();
    }
    return exchange;
  }

  /** A queued exchange was aborted before it got a connection. */
  dequeue(exchange: Http1Exchange): void {
    const i = this.queue.indexOf(exchange);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** A connection finished its exchange: reuse it for the next queued one, keep it idle, or close it. */
  release(connection: Http1Connection): void {
    if (!connection.reusable || connection.closed) {
      connection.socket.destroy();
      return;
    }
    connection.resume();
    const next = this.queue.shift();
    if (next) {
      connection.assign(next);
      return;
    }
    if (this.closing) {
      connection.socket.destroy();
      return;
    }
    connection.idleSince = this.now();
    this.idle.push(connection);
    this.scheduleSweep();
  }

  /** A connection closed. */
  remove(connection: Http1Connection): void {
    this.total--;
    this.open--;
    const i = this.idle.indexOf(connection);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.queue.length > 0 && this.total < this.options.maxConnections) this.connect();
    this.checkClosed();
  }

  /** Stops taking requests; in-flight and queued ones finish. Resolves when every connection is closed. */
  close(): Promise<void> {
    this.closing = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
    return new Promise((resolve) => {
      this.onClosed.push(resolve);
      this.checkClosed();
    });
  }

  private checkClosed(): void {
    if (!this.closing || this.total > 0 || this.queue.length > 0) return;
    const waiting = this.onClosed;
    this.onClosed = [];
    for (const resolve of waiting) resolve();
  }

  private takeIdle(): Http1Connection | undefined {
    const now = this.now();
    for (;;) {
      const connection = this.idle.pop();
      if (!connection) return undefined;
      if (!connection.closed && now - connection.idleSince < connection.keepAliveMs) return connection;
      connection.socket.destroy();
    }
  }

  private connect(): void {
    this.total++;
    this.options.connector(this.options.connectOptions, (error, socket) => {
      if (error || !socket) {
        this.total--;
        // The oldest waiting request learns why; the others try their own connection.
        this.queue.shift()?.fail(classifyUpstreamError(error ?? new Error('no socket'), false));
        if (this.queue.length > 0 && this.total < this.options.maxConnections) this.connect();
        this.checkClosed();
        return;
      }
      this.open++;
      const connection = new Http1Connection(this, socket as Socket, this.options.keepAliveTimeoutMs);
      const next = this.queue.shift();
      if (next) connection.assign(next);
      else if (this.closing) socket.destroy();
      else {
        connection.idleSince = this.now();
        this.idle.push(connection);
        this.scheduleSweep();
      }
    });
  }

  /** Closes idle connections past their keep-alive time, checking again while any stay idle. */
  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      const now = this.now();
      for (const connection of [...this.idle]) {
        if (now - connection.idleSince >= connection.keepAliveMs) connection.socket.destroy();
      }
      if (this.idle.length > 0) this.scheduleSweep();
    }, 1000);
    this.sweepTimer.unref();
  }
}
