/**
 * The HTTP/1.1 response writer of one exchange on a downstream connection:
 * it serialises the status line and header section once, and sends them
 * together with the first body bytes in a single socket write (so a small
 * response costs one `write` syscall); chunked transfer coding (with
 * trailers) when the length is unknown on HTTP/1.1, close-delimited bodies
 * for HTTP/1.0, no body for HEAD, 1xx, 204 and 304.
 *
 * It satisfies the `DownstreamResponse` contract of http-stream.ts. Header
 * names must be tokens and values may hold no CR, LF or other control
 * characters: `writeHead` throws `Http1Error` (code INVALID_HEADER) for
 * anything else, as node:http does, and writes nothing (no response
 * splitting). Hop-by-hop framing headers given by callers (`connection`,
 * `transfer-encoding`, `keep-alive`) are replaced by the writer's own; a
 * `connection: close` from a caller is honoured.
 */
import { type OutgoingHttpHeaders, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DownstreamResponse } from './http-stream.ts';
import { TOKEN } from './http1-parser.ts';

/** A downstream HTTP/1.1 failure the codec reports (stable `code`, optional `cause`). */
export class Http1Error extends Error {
  readonly code: 'INVALID_HEADER' | 'DOWNSTREAM_ABORTED';

  constructor(code: Http1Error['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Http1Error';
    this.code = code;
  }
}

/** What a response needs from its connection. */
export interface ResponseConnection {
  readonly socket: Duplex;
  /** Whether the connection must close after this response (decided when headers are written). */
  closeAfterResponse(response: Http1Response): boolean;
  /** The response was fully written. */
  onResponseEnd(response: Http1Response): void;
  /** Aborts the connection (the only honest signal after headers went out). */
  abort(): void;
  /** Milliseconds since the epoch, for the Date header. */
  now(): number;
}

const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n';
/** Bodies up to this size are copied next to their framing into one write; larger ones go out as writev. */
const COALESCE_LIMIT = 16 * 1024;

function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff || TOKEN[c] !== 1) return false;
  }
  return true;
}

let dateSecond = -1;
let dateText = '';
/** The IMF-fixdate for `ms`, recomputed once per second. */
function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

type Framing = 'none' | 'length' | 'chunked' | 'close';

export class Http1Response implements DownstreamResponse {
  headersSent = false;
  writableEnded = false;
  /** The response got no more bytes because the connection closed first. */
  aborted = false;
  /** Set when headers are written: the connection closes after this response. */
  close = false;
  private readonly connection: ResponseConnection;
  private readonly head: boolean;
  private readonly versionMinor: number;
  private pendingHead: string | undefined;
  private framing: Framing = 'none';
  private trailers: OutgoingHttpHeaders | undefined;
  private closeListeners: Array<() => void> | undefined;

  constructor(connection: ResponseConnection, method: string, versionMinor: number) {
    this.connection = connection;
    this.head = method === 'HEAD';
    this.versionMinor = versionMinor;
  }

  /**
   * Serialises the status line and headers (sent with the first body bytes
   * or at `end`). Throws Http1Error INVALID_HEADER, writing nothing, when a
   * name is not a token or a value holds a control character.
   */
  writeHead(statusCode: number, headers: OutgoingHttpHeaders): this {
    if (this.headersSent) return this;
    let text = `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'unknown'}\r\n`;
    let hasLength = false;
    let hasDate = false;
    let callerClose = false;
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || name.charCodeAt(0) === 58 /* : pseudo-header */) continue;
      if (!isToken(name)) throw new Http1Error('INVALID_HEADER', `invalid response header name "${name}"`);
      const lower = name.toLowerCase();
      if (lower === 'connection' || lower === 'transfer-encoding' || lower === 'keep-alive') {
        if (lower === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(String(value))) callerClose = true;
        continue;
      }
      if (lower === 'content-length') hasLength = true;
      else if (lower === 'date') hasDate = true;
      if (Array.isArray(value)) {
        for (const item of value) text += headerLine(name, item);
      } else {
        text += headerLine(name, typeof value === 'string' ? value : String(value));
      }
    }
    if (!hasDate) text += `date: ${httpDate(this.connection.now())}\r\n`;
    const bodiless = this.head || statusCode < 200 || statusCode === 204 || statusCode === 304;
    if (bodiless) this.framing = 'none';
    else if (hasLength) this.framing = 'length';
    else if (this.versionMinor >= 1) {
      this.framing = 'chunked';
      text += 'transfer-encoding: chunked\r\n';
    } else this.framing = 'close';
    this.close = callerClose || this.framing === 'close' || this.connection.closeAfterResponse(this);
    if (this.close) text += 'connection: close\r\n';
    else if (this.versionMinor === 0) text += 'connection: keep-alive\r\n';
    this.pendingHead = `${text}\r\n`;
    this.headersSent = true;
    return this;
  }

  /** Writes body bytes (with the head, if not sent yet); false asks the caller to wait for 'drain'. */
  write(chunk: Buffer): boolean {
    if (this.writableEnded || this.aborted) return true;
    if (!this.headersSent) this.writeHead(200, {});
    if (this.framing === 'none' || chunk.length === 0) return this.flushHead();
    return this.send(chunk, false);
  }

  /** Ends the response (optionally with a last chunk, and the trailers given to addTrailers). */
  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(200, {});
    this.writableEnded = true;
    if (this.aborted) return this;
    const body = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.framing === 'none' || body === undefined || body.length === 0) {
      if (this.framing === 'chunked') this.writeParts(this.pendingHead, undefined, this.lastChunk());
      else this.flushHead();
    } else {
      this.send(body, true);
    }
    this.pendingHead = undefined;
    this.connection.onResponseEnd(this);
    return this;
  }

  /** Trailer fields sent after a chunked body (dropped, as node:http does, for other framings). */
  addTrailers(headers: OutgoingHttpHeaders): void {
    this.trailers = this.trailers ? { ...this.trailers, ...headers } : headers;
  }

  once(_event: 'drain', fn: () => void): this {
    this.connection.socket.once('drain', fn);
    return this;
  }

  on(_event: 'close', fn: () => void): this {
    if (this.aborted) {
      queueMicrotask(fn);
      return this;
    }
    if (this.closeListeners) this.closeListeners.push(fn);
    else this.closeListeners = [fn];
    return this;
  }

  /** Aborts the exchange: the connection is destroyed. Safe to repeat. */
  destroy(_error?: Error): this {
    this.connection.abort();
    return this;
  }

  /** Called by the connection when it closed before this response ended. */
  onConnectionClosed(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.closeListeners;
    this.closeListeners = undefined;
    if (listeners) for (const fn of listeners) fn();
  }

  private flushHead(): boolean {
    const head = this.pendingHead;
    if (head === undefined) return true;
    this.pendingHead = undefined;
    return this.connection.socket.write(head, 'latin1');
  }

  private send(body: Buffer, last: boolean): boolean {
    const head = this.pendingHead;
    this.pendingHead = undefined;
    if (this.framing !== 'chunked') return this.writeParts(head, body, undefined);
    const prefix = `${head ?? ''}${body.length.toString(16)}\r\n`;
    return this.writeParts(prefix, body, last ? `\r\n${this.lastChunk()}` : CRLF);
  }

  /** The last chunk and trailer section of a chunked body. */
  private lastChunk(): string {
    let text = LAST_CHUNK;
    const trailers = this.trailers;
    if (trailers) {
      for (const name in trailers) {
        const value = trailers[name];
        if (value === undefined || !isToken(name)) continue;
        for (const item of Array.isArray(value) ? value : [String(value)]) {
          if (!INVALID_VALUE.test(item)) text += `${name}: ${item}\r\n`;
        }
      }
    }
    return `${text}\r\n`;
  }

  /** Writes prefix + body + suffix as one buffer (or one corked writev for large bodies). */
  private writeParts(
    prefix: string | undefined,
    body: Buffer | undefined,
    suffix: string | undefined,
  ): boolean {
    const socket = this.connection.socket;
    const bodyLength = body?.length ?? 0;
    if (bodyLength > COALESCE_LIMIT) {
      socket.cork();
      if (prefix) socket.write(prefix, 'latin1');
      socket.write(body!);
      if (suffix) socket.write(suffix, 'latin1');
      socket.uncork();
      return !socket.writableNeedDrain;
    }
    if (bodyLength === 0) {
      const text = (prefix ?? '') + (suffix ?? '');
      return text.length === 0 ? true : socket.write(text, 'latin1');
    }
    const prefixLength = prefix?.length ?? 0;
    const out = Buffer.allocUnsafe(prefixLength + bodyLength + (suffix?.length ?? 0));
    if (prefix) out.write(prefix, 0, 'latin1');
    out.set(body!, prefixLength);
    if (suffix) out.write(suffix, prefixLength + bodyLength, 'latin1');
    return socket.write(out);
  }
}

function headerLine(name: string, value: string): string {
  if (INVALID_VALUE.test(value)) {
    throw new Http1Error('INVALID_HEADER', `invalid character in response header "${name}"`);
  }
  return `${name}: ${value}\r\n`;
}
