/**
 * A strict HTTP/1.1 request parser over Buffers (RFC 9112): the request
 * head (request line and field section); chunked bodies are decoded by
 * http1-chunked-decoder.ts with the byte classes exported here. It
 * never throws: malformed input yields a status to answer with (400, 431,
 * 501, 505, 417) and a short reason.
 *
 * Strictness is the point (request smuggling needs two parsers that
 * disagree): lines end in CRLF only (bare LF or bare CR is an error), no
 * obs-fold, no whitespace between a field name and its colon, field names
 * are tokens and values hold no control characters, a message with both
 * Content-Length and Transfer-Encoding is rejected, Content-Length values
 * must all agree, and the only transfer coding accepted is a lone
 * `chunked` (anything else is 400, or 501 for an unknown coding before a
 * final `chunked`). The parsed headers follow node:http's conventions
 * (lowercased names; duplicates joined with `, `, `cookie` with `; `,
 * `set-cookie` kept as an array, singletons such as `content-type` keep the
 * first) so the filters see what they saw under node:http, in an object
 * without a prototype chain to Object.prototype (a header named
 * `constructor` or `__proto__` is just a header).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Byte values and classes, shared with the chunked decoder. */
export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;

function byteClass(test: (byte: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) table[b] = test(b) ? 1 : 0;
  return table;
}

const TCHAR_EXTRA = "!#$%&'*+-.^_`|~";
/** tchar (RFC 9110 section 5.6.2). */
export const TOKEN = byteClass(
  (b) =>
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    TCHAR_EXTRA.includes(String.fromCharCode(b)),
);
/** field-vchar, SP and HTAB (obs-text allowed, as RFC 9110 section 5.5 does). */
export const FIELD_CHAR = byteClass((b) => b === HTAB || (b >= 0x20 && b !== 0x7f));
/** A request-target byte: visible ASCII (RFC 3986 characters and what clients send unescaped). */
const TARGET_CHAR = byteClass((b) => b > 0x20 && b < 0x7f);
export const HEX = byteClass(
  (b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66),
);

/** A status to answer a request the parser refuses with, and why. */
export interface ParseError {
  readonly kind: 'error';
  readonly status: 400 | 417 | 431 | 501 | 505;
  readonly reason: string;
}

/** How a request body is delimited (RFC 9112 section 6.3). */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' };

/** A parsed request head. */
export interface RequestHead {
  readonly method: string;
  /** The request-target as sent. */
  readonly url: string;
  readonly versionMinor: number;
  readonly headers: IncomingHttpHeaders;
  readonly framing: BodyFraming;
  /** RFC 9112 section 9.3: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `keep-alive`. */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` on an HTTP/1.1 request. */
  readonly expectContinue: boolean;
  /** An `Upgrade` header listed in `Connection` (handed to the upgrade path). */
  readonly upgrade: boolean;
}

export type HeadResult =
  | { readonly kind: 'incomplete' }
  | ParseError
  | { readonly kind: 'head'; readonly head: RequestHead; readonly end: number };

/** Limits of one request head. */
export interface HeadLimits {
  /** Bytes of request line plus field section (Envoy's max_request_headers_kb); 431 above. */
  readonly maxHeadBytes: number;
  /** Field lines (Envoy's max_headers_count, default 100); 431 above. */
  readonly maxHeaders: number;
}

const INCOMPLETE: HeadResult = { kind: 'incomplete' };

function fail(status: ParseError['status'], reason: string): ParseError {
  return { kind: 'error', status, reason };
}

/** node:http keeps the first of these when a request repeats them (IncomingMessage._addHeaderLine). */
const SINGLETONS = new Set([
  'content-type',
  'user-agent',
  'referer',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
]);

/** A header object whose prototype chain holds no properties (fast properties, no Object.prototype). */
const HeaderRecord = function HeaderRecord() {} as unknown as new () => IncomingHttpHeaders;
HeaderRecord.prototype = Object.create(null);

/** Adds one field line under node:http's rules for repeated names. */
function addHeader(headers: IncomingHttpHeaders, name: string, value: string): void {
  const previous = headers[name];
  if (previous === undefined) {
    headers[name] = name === 'set-cookie' ? [value] : value;
  } else if (name === 'set-cookie') {
    (previous as string[]).push(value);
  } else if (name === 'cookie') {
    headers[name] = `${previous}; ${value}`;
  } else if (!SINGLETONS.has(name)) {
    headers[name] = `${previous}, ${value}`;
  }
}

/**
 * Where the head that starts at `start` ends (the offset after its empty
 * line), or -1 when more bytes are needed. A bare-LF empty line also ends
 * it (the full parse then rejects it), so a client using bare LF gets a 400
 * instead of a wait.
 */
export function findHeadEnd(buf: Buffer, start: number): number {
  let i = buf.indexOf(LF, start);
  while (i >= 0) {
    const next = buf[i + 1];
    if (next === LF) return i + 2;
    if (next === CR) {
      if (i + 2 >= buf.length) return -1;
      if (buf[i + 2] === LF) return i + 3;
    }
    if (next === undefined) return -1;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}

/** Skips the empty lines RFC 9112 section 2.2 lets a server ignore before a request line. */
export function skipLeadingEmptyLines(buf: Buffer, start: number): number {
  let p = start;
  while (buf[p] === CR && buf[p + 1] === LF) p += 2;
  return p;
}

/**
 * Parses the request head starting at `start` (after any leading empty
 * lines). `incomplete` means wait for more bytes (unless the buffered head
 * already exceeds the limit: then 431).
 */
export function parseRequestHead(buf: Buffer, start: number, limits: HeadLimits): HeadResult {
  const end = findHeadEnd(buf, start);
  if (end < 0) {
    return buf.length - start > limits.maxHeadBytes
      ? fail(431, 'request header section too large')
      : INCOMPLETE;
  }
  if (end - start > limits.maxHeadBytes) return fail(431, 'request header section too large');

  // One string for the whole head (latin1: one char per byte); names and values are slices of it.
  const text = buf.toString('latin1', start, end);
  // Request line: method SP request-target SP HTTP-version CRLF.
  let p = start;
  while (TOKEN[buf[p]!] === 1) p++;
  if (p === start || buf[p] !== SP) return fail(400, 'invalid request line');
  const method = text.slice(0, p - start);
  const targetStart = ++p;
  while (TARGET_CHAR[buf[p]!] === 1) p++;
  if (p === targetStart || buf[p] !== SP) return fail(400, 'invalid request target');
  const url = text.slice(targetStart - start, p - start);
  p++;
  if (
    buf[p] !== 0x48 || // H
    buf[p + 1] !== 0x54 ||
    buf[p + 2] !== 0x54 ||
    buf[p + 3] !== 0x50 ||
    buf[p + 4] !== 0x2f || // /
    !isDigit(buf[p + 5]) ||
    buf[p + 6] !== 0x2e || // .
    !isDigit(buf[p + 7])
  ) {
    return fail(400, 'invalid HTTP version');
  }
  const major = buf[p + 5]! - 0x30;
  const versionMinor = buf[p + 7]! - 0x30;
  p += 8;
  if (buf[p] !== CR || buf[p + 1] !== LF) return fail(400, 'invalid request line');
  p += 2;
  if (major !== 1) return fail(505, 'HTTP version not supported');

  const headers = new HeaderRecord();
  let count = 0;
  let contentLength = -1;
  let transferEncoding: string | undefined;
  let hosts = 0;
  let connection: string | undefined;
  let expect: string | undefined;
  // Field lines until the empty line (end - 2 is its CR, end - 1 its LF).
  while (p < end - 2) {
    const nameStart = p;
    while (TOKEN[buf[p]!] === 1) p++;
    if (p === nameStart) {
      const first = buf[p];
      return fail(400, first === SP || first === HTAB ? 'obsolete line folding' : 'invalid header name');
    }
    if (buf[p] !== COLON) return fail(400, 'invalid header name');
    const nameEnd = p++;
    while (buf[p] === SP || buf[p] === HTAB) p++;
    const valueStart = p;
    while (FIELD_CHAR[buf[p]!] === 1) p++;
    if (buf[p] !== CR || buf[p + 1] !== LF) return fail(400, 'invalid header value');
    let valueEnd = p;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    p += 2;
    if (++count > limits.maxHeaders) return fail(431, 'too many request headers');
    const name = text.slice(nameStart - start, nameEnd - start).toLowerCase();
    const value = text.slice(valueStart - start, valueEnd - start);
    switch (name) {
      case 'content-length': {
        const length = parseContentLength(value);
        if (length < 0) return fail(400, 'invalid content-length');
        if (contentLength >= 0 && length !== contentLength) return fail(400, 'conflicting content-length');
        contentLength = length;
        continue;
      }
      case 'transfer-encoding':
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        continue;
      case 'host':
        hosts++;
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection}, ${value}`;
        break;
      case 'expect':
        expect = value;
        break;
    }
    addHeader(headers, name, value);
  }
  if (buf[end - 2] !== CR) return fail(400, 'invalid header section end');

  if (hosts > 1) return fail(400, 'more than one host header');
  if (hosts === 0 && versionMinor >= 1) return fail(400, 'missing host header');

  let framing: BodyFraming = NO_BODY;
  if (transferEncoding !== undefined) {
    if (contentLength >= 0) return fail(400, 'both content-length and transfer-encoding');
    if (versionMinor === 0) return fail(400, 'transfer-encoding in an HTTP/1.0 request');
    const codings = transferEncoding.split(',');
    const last = codings[codings.length - 1]!.trim().toLowerCase();
    if (last !== 'chunked') return fail(400, 'transfer-encoding does not end in chunked');
    if (codings.length > 1) {
      for (let i = 0; i < codings.length - 1; i++) {
        if (codings[i]!.trim().toLowerCase() === 'chunked') return fail(400, 'chunked applied twice');
      }
      return fail(501, 'unsupported transfer coding');
    }
    headers['transfer-encoding'] = transferEncoding;
    framing = CHUNKED;
  } else if (contentLength > 0) {
    headers['content-length'] = String(contentLength);
    framing = { kind: 'length', length: contentLength };
  } else if (contentLength === 0) {
    headers['content-length'] = '0';
  }

  let close = false;
  let keepAliveOption = false;
  let upgradeOption = false;
  if (connection !== undefined) {
    for (const option of connection.split(',')) {
      const token = option.trim().toLowerCase();
      if (token === 'close') close = true;
      else if (token === 'keep-alive') keepAliveOption = true;
      else if (token === 'upgrade') upgradeOption = true;
    }
  }
  const keepAlive = !close && (versionMinor >= 1 || keepAliveOption);
  const upgrade = upgradeOption && headers.upgrade !== undefined;
  let expectContinue = false;
  if (expect !== undefined && versionMinor >= 1) {
    if (expect.toLowerCase() !== '100-continue') return fail(417, 'unsupported expectation');
    expectContinue = true;
  }
  return {
    kind: 'head',
    head: { method, url, versionMinor, headers, framing, keepAlive, expectContinue, upgrade },
    end,
  };
}

const NO_BODY: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/**
 * A Content-Length field value: 1*DIGIT, or a list of identical ones
 * (RFC 9112 section 6.3 lets a recipient accept `5, 5`); -1 when invalid,
 * conflicting, or beyond 2^53.
 */
export function parseContentLength(value: string): number {
  let result = -1;
  for (const part of value.split(',')) {
    const digits = part.trim();
    if (digits.length === 0 || digits.length > 15) return -1;
    let n = 0;
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i) - 0x30;
      if (c < 0 || c > 9) return -1;
      n = n * 10 + c;
    }
    if (result >= 0 && n !== result) return -1;
    result = n;
  }
  return result;
}

/** The raw field lines of a parsed head, as [name, value, ...] in order (the upgrade path replays them). */
export function rawHeaderPairs(buf: Buffer, start: number, end: number): string[] {
  const pairs: string[] = [];
  let p = buf.indexOf(LF, start) + 1;
  while (p > 0 && p < end - 2) {
    const lineEnd = buf.indexOf(LF, p) - 1;
    const colon = buf.indexOf(COLON, p);
    pairs.push(buf.toString('latin1', p, colon), buf.toString('latin1', colon + 1, lineEnd).trim());
    p = lineEnd + 2;
  }
  return pairs;
}
