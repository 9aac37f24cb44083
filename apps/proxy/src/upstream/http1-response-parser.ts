/**
 * An incremental HTTP/1.1 response parser for upstream connections (RFC
 * 9112): status line and header fields, then the body framed by
 * Transfer-Encoding: chunked (extensions ignored, trailers kept),
 * Content-Length, or the connection's close; interim 1xx responses are
 * skipped; responses to HEAD and 204/304 have no body.
 *
 * `execute(chunk)` consumes bytes as they arrive and calls the sink; body
 * bytes are delivered as views of the input (no copy). Malformed input
 * makes `execute` return a `ResponseParseError` (it never throws); the
 * connection must then be closed.
 */

/** Response header fields: lowercased names, repeated fields as arrays. */
export type ResponseHeaders = Record<string, string | string[]>;

/** Receives one response. */
export interface ResponseSink {
  onResponseHead(status: number, headers: ResponseHeaders): void;
  onResponseBody(chunk: Buffer): void;
  /** The response ended; `keepAlive` says whether the connection may carry another request. */
  onResponseEnd(trailers: ResponseHeaders, keepAlive: boolean): void;
}

/** The upstream sent something that is not an HTTP/1.1 response. */
export class ResponseParseError extends Error {
  readonly code = 'UPSTREAM_PROTOCOL_ERROR';
}

/** Largest response head (status line and headers) accepted, like Node's default. */
export const MAX_HEAD_BYTES = 64 * 1024;

const CRLF = 0x0a0d; // "\r\n" as a little-endian 16-bit read
const HEAD_END = '\r\n\r\n';
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,12}$/;

const Phase = {
  Idle: 0,
  Head: 1,
  Length: 2,
  ChunkSize: 3,
  ChunkData: 4,
  ChunkDataEnd: 5,
  Trailers: 6,
  UntilClose: 7,
} as const;
type State = (typeof Phase)[keyof typeof Phase];

export class Http1ResponseParser {
  private readonly sink: ResponseSink;
  private state: State = Phase.Idle;
  /** Bytes of an unfinished head, chunk-size line or trailer section. */
  private pending: Buffer | undefined;
  private remaining = 0;
  private keepAlive = true;
  private noBody = false;

  constructor(sink: ResponseSink) {
    this.sink = sink;
  }

  /** True between a response's first byte and its end. */
  get inMessage(): boolean {
    return this.state !== Phase.Idle;
  }

  /** True when the response in progress ends only with the connection (no length, not chunked). */
  get endsAtClose(): boolean {
    return this.state === Phase.UntilClose;
  }

  /** Expects the response to the next request; `head` when that request is a HEAD. */
  expect(head: boolean): void {
    this.state = Phase.Head;
    this.noBody = head;
    this.pending = undefined;
  }

  /**
   * The connection ended: completes a close-delimited body. Returns an
   * error when a response was cut short.
   */
  finish(): ResponseParseError | undefined {
    if (this.state === Phase.UntilClose) {
      this.state = Phase.Idle;
      this.sink.onResponseEnd({}, false);
      return undefined;
    }
    return this.state === Phase.Idle ? undefined : new ResponseParseError('upstream closed mid-response');
  }

  /** Consumes `chunk`; returns an error for malformed input or bytes outside a response. */
  execute(chunk: Buffer): ResponseParseError | undefined {
    let data = chunk;
    let offset = 0;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    while (offset < data.length) {
      switch (this.state) {
        case Phase.Idle:
          return new ResponseParseError('upstream sent bytes with no request outstanding');
        case Phase.Head: {
          const end = data.indexOf(HEAD_END, offset, 'latin1');
          if (end < 0) {
            if (data.length - offset > MAX_HEAD_BYTES)
              return new ResponseParseError('response head too large');
            this.pending = data.subarray(offset);
            return undefined;
          }
          const error = this.onHead(data.toString('latin1', offset, end));
          if (error) return error;
          offset = end + 4;
          break;
        }
        case Phase.Length:
          offset = this.body(data, offset);
          if (this.remaining === 0) this.end({});
          break;
        case Phase.UntilClose:
          this.sink.onResponseBody(offset === 0 ? data : data.subarray(offset));
          return undefined;
        case Phase.ChunkSize: {
          const eol = data.indexOf('\r\n', offset, 'latin1');
          if (eol < 0) {
            if (data.length - offset > 1024) return new ResponseParseError('chunk size line too long');
            this.pending = data.subarray(offset);
            return undefined;
          }
          const line = data.toString('latin1', offset, eol);
          const semi = line.indexOf(';');
          const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
          if (!CHUNK_SIZE.test(hex)) return new ResponseParseError('invalid chunk size');
          this.remaining = Number.parseInt(hex, 16);
          offset = eol + 2;
          this.state = this.remaining === 0 ? Phase.Trailers : Phase.ChunkData;
          break;
        }
        case Phase.ChunkData:
          offset = this.body(data, offset);
          if (this.remaining === 0) this.state = Phase.ChunkDataEnd;
          break;
        case Phase.ChunkDataEnd: {
          if (data.length - offset < 2) {
            this.pending = data.subarray(offset);
            return undefined;
          }
          if (data.readUInt16LE(offset) !== CRLF) return new ResponseParseError('chunk not followed by CRLF');
          offset += 2;
          this.state = Phase.ChunkSize;
          break;
        }
        case Phase.Trailers: {
          // The last chunk: trailer fields until an empty line.
          if (data.length - offset >= 2 && data.readUInt16LE(offset) === CRLF) {
            offset += 2;
            this.end({});
            break;
          }
          const end = data.indexOf(HEAD_END, offset, 'latin1');
          if (end < 0) {
            if (data.length - offset > MAX_HEAD_BYTES) return new ResponseParseError('trailers too large');
            this.pending = data.subarray(offset);
            return undefined;
          }
          const trailers: ResponseHeaders = {};
          const block = data.toString('latin1', offset, end);
          const lines = block.split('\r\n');
          if (!cleanBlock(block, lines.length)) return new ResponseParseError('invalid trailer value');
          const error = parseFields(lines, 0, trailers);
          if (error) return error;
          offset = end + 4;
          this.end(trailers);
          break;
        }
      }
    }
    return undefined;
  }

  /** Delivers up to `remaining` body bytes from `offset`; returns the offset after them. */
  private body(data: Buffer, offset: number): number {
    const take = Math.min(this.remaining, data.length - offset);
    this.remaining -= take;
    this.sink.onResponseBody(data.subarray(offset, offset + take));
    return offset + take;
  }

  private end(trailers: ResponseHeaders): void {
    this.state = Phase.Idle;
    this.sink.onResponseEnd(trailers, this.keepAlive);
  }

  private onHead(head: string): ResponseParseError | undefined {
    const lines = head.split('\r\n');
    if (!cleanBlock(head, lines.length)) return new ResponseParseError('invalid header value');
    const statusLine = lines[0]!;
    // "HTTP/1.1 200 OK": version, a space, three digits, then a space or the end.
    if (
      !statusLine.startsWith('HTTP/1.') ||
      statusLine.charCodeAt(8) !== 32 ||
      (statusLine.length > 12 && statusLine.charCodeAt(12) !== 32)
    )
      return new ResponseParseError('invalid status line');
    const minor = statusLine.charCodeAt(7) - 48;
    const status = Number(statusLine.slice(9, 12));
    if ((minor !== 0 && minor !== 1) || !(status >= 100 && status <= 999) || !Number.isInteger(status))
      return new ResponseParseError('invalid status line');
    const headers: ResponseHeaders = {};
    const error = parseFields(lines, 1, headers);
    if (error) return error;
    if (status < 200) {
      // 101 would switch protocols: never asked for on a pooled connection.
      if (status === 101) return new ResponseParseError('unexpected 101 Switching Protocols');
      return undefined; // interim response: the real one follows
    }
    const connection = headers.connection;
    const tokens = connection === undefined ? '' : String(connection).toLowerCase();
    this.keepAlive = minor === 1 ? !tokens.includes('close') : tokens.includes('keep-alive');
    const te = headers['transfer-encoding'];
    const length = headers['content-length'];
    if (this.noBody || status === 204 || status === 304) {
      this.sink.onResponseHead(status, headers);
      this.end({});
      return undefined;
    }
    if (te !== undefined) {
      if (length !== undefined) return new ResponseParseError('both transfer-encoding and content-length');
      const codings = String(te).toLowerCase();
      if (/(^|,)\s*chunked\s*$/.test(codings)) this.state = Phase.ChunkSize;
      else {
        this.state = Phase.UntilClose;
        this.keepAlive = false;
      }
      this.sink.onResponseHead(status, headers);
      return undefined;
    }
    if (length !== undefined) {
      const text = Array.isArray(length) ? length[0]! : length;
      if (Array.isArray(length) && length.some((l) => l !== text))
        return new ResponseParseError('conflicting content-length');
      if (!/^[0-9]{1,15}$/.test(text)) return new ResponseParseError('invalid content-length');
      this.remaining = Number(text);
      this.sink.onResponseHead(status, headers);
      if (this.remaining === 0) this.end({});
      else this.state = Phase.Length;
      return undefined;
    }
    this.state = Phase.UntilClose;
    this.keepAlive = false;
    this.sink.onResponseHead(status, headers);
    return undefined;
  }
}

/**
 * Header names seen before, raw -> lowercased (already checked to be
 * tokens): upstreams repeat the same few names on every response. Bounded,
 * so hostile upstreams cannot grow it.
 */
const knownNames = new Map<string, string>();
const KNOWN_NAMES_MAX = 512;

/** Parses `name: value` lines from `lines[from]` on into `into`. */
function parseFields(
  lines: readonly string[],
  from: number,
  into: ResponseHeaders,
): ResponseParseError | undefined {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return new ResponseParseError('invalid header line');
    const name = line.slice(0, colon);
    let key = knownNames.get(name);
    if (key === undefined) {
      if (!TOKEN.test(name)) return new ResponseParseError('invalid header name');
      key = name.toLowerCase();
      if (knownNames.size < KNOWN_NAMES_MAX) knownNames.set(name, key);
    }
    const value = line.slice(colon + 1).trim();
    const existing = into[key];
    if (existing === undefined) into[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else into[key] = [existing, value];
  }
  return undefined;
}

/**
 * True when `block` (lines joined by CRLF) has no NUL and no CR or LF
 * other than the `lines - 1` CRLF separators: one scan for the whole head
 * instead of three per field value.
 */
function cleanBlock(block: string, lines: number): boolean {
  if (block.includes('\0')) return false;
  let crs = 0;
  for (let i = block.indexOf('\r'); i >= 0; i = block.indexOf('\r', i + 1)) crs++;
  let lfs = 0;
  for (let i = block.indexOf('\n'); i >= 0; i = block.indexOf('\n', i + 1)) lfs++;
  return crs === lines - 1 && lfs === lines - 1;
}
