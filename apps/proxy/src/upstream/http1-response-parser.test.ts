import { describe, expect, it } from 'vitest';
import { Http1ResponseParser, type ResponseHeaders, type ResponseSink } from './http1-response-parser.ts';

/** Everything the parser reported, in order. */
class Recording implements ResponseSink {
  readonly events: Array<{
    status: number;
    headers: ResponseHeaders;
    body: string;
    trailers?: ResponseHeaders;
    keepAlive?: boolean;
  }> = [];
  private current: (typeof this.events)[number] | undefined;

  onResponseHead(status: number, headers: ResponseHeaders): void {
    this.current = { status, headers, body: '' };
    this.events.push(this.current);
  }

  onResponseBody(chunk: Buffer): void {
    this.current!.body += chunk.toString('latin1');
  }

  onResponseEnd(trailers: ResponseHeaders, keepAlive: boolean): void {
    this.current!.trailers = trailers;
    this.current!.keepAlive = keepAlive;
  }
}

/** Feeds `wire` in pieces of `step` bytes (0: all at once); returns the events and the first error. */
function parse(wire: string, options: { step?: number; head?: boolean; close?: boolean } = {}) {
  const sink = new Recording();
  const parser = new Http1ResponseParser(sink);
  parser.expect(options.head ?? false);
  const bytes = Buffer.from(wire, 'latin1');
  const step = options.step || bytes.length || 1;
  let error: string | undefined;
  for (let i = 0; i < bytes.length && !error; i += step)
    error = parser.execute(bytes.subarray(i, i + step))?.message;
  if (!error && options.close) error = parser.finish()?.message;
  return { events: sink.events, error, inMessage: parser.inMessage };
}

const OK = 'HTTP/1.1 200 OK\r\n';

describe('Http1ResponseParser', () => {
  const cases = [
    {
      name: 'content-length',
      wire: `${OK}content-length: 5\r\nx-a: 1\r\n\r\nhello`,
      expected: {
        status: 200,
        body: 'hello',
        keepAlive: true,
        headers: { 'content-length': '5', 'x-a': '1' },
      },
    },
    {
      name: 'chunked with extensions and trailers',
      wire: `${OK}Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\ngrpc-status: 0\r\n\r\n`,
      expected: { status: 200, body: 'hello!', keepAlive: true, trailers: { 'grpc-status': '0' } },
    },
    {
      name: 'chunked without trailers',
      wire: `${OK}transfer-encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n`,
      expected: { status: 200, body: '0123456789', keepAlive: true, trailers: {} },
    },
    {
      name: 'connection: close',
      wire: `${OK}content-length: 2\r\nconnection: close\r\n\r\nok`,
      expected: { status: 200, body: 'ok', keepAlive: false },
    },
    {
      name: 'HTTP/1.0 without keep-alive',
      wire: 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok',
      expected: { status: 200, body: 'ok', keepAlive: false },
    },
    {
      name: 'HTTP/1.0 with keep-alive',
      wire: 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\nConnection: Keep-Alive\r\n\r\nok',
      expected: { status: 200, body: 'ok', keepAlive: true },
    },
    {
      name: 'interim 100 and 103 before the response',
      wire: `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n${OK}content-length: 1\r\n\r\nx`,
      expected: { status: 200, body: 'x', keepAlive: true },
    },
    {
      name: '204 with no body',
      wire: 'HTTP/1.1 204 No Content\r\nx: y\r\n\r\n',
      expected: { status: 204, body: '', keepAlive: true },
    },
    {
      name: '304 ignores its content-length',
      wire: 'HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n',
      expected: { status: 304, body: '', keepAlive: true },
    },
    {
      name: 'repeated headers as a list, names lowercased, values trimmed',
      wire: `${OK}Set-Cookie: a=1\r\nset-cookie:  b=2 \r\ncontent-length: 0\r\n\r\n`,
      expected: { status: 200, body: '', headers: { 'set-cookie': ['a=1', 'b=2'], 'content-length': '0' } },
    },
    {
      name: 'a status line without a reason phrase',
      wire: 'HTTP/1.1 503\r\ncontent-length: 0\r\n\r\n',
      expected: { status: 503, body: '' },
    },
  ];

  it.each(cases)('parses $name, whole or byte by byte', ({ wire, expected }) => {
    for (const step of [0, 1, 3, 7]) {
      const { events, error, inMessage } = parse(wire, { step });
      expect(error).toBeUndefined();
      expect(inMessage).toBe(false);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject(expected);
    }
  });

  it('ends a close-delimited body when the connection ends, and never keeps it alive', () => {
    const open = parse(`${OK}x: y\r\n\r\nsome bytes`);
    expect(open.inMessage).toBe(true);
    const { events, error } = parse(`${OK}x: y\r\n\r\nsome bytes`, { step: 4, close: true });
    expect(error).toBeUndefined();
    expect(events[0]).toMatchObject({ status: 200, body: 'some bytes', keepAlive: false });
  });

  it('treats a non-chunked transfer-encoding as close-delimited', () => {
    const { events } = parse(`${OK}transfer-encoding: gzip\r\n\r\nzz`, { close: true });
    expect(events[0]).toMatchObject({ body: 'zz', keepAlive: false });
  });

  it('reads no body for a HEAD request whatever the length says', () => {
    const { events, inMessage } = parse(`${OK}content-length: 1000\r\n\r\n`, { head: true });
    expect(events[0]).toMatchObject({ status: 200, body: '', keepAlive: true });
    expect(inMessage).toBe(false);
  });

  it.each([
    { name: 'garbage status line', wire: 'SSH-2.0-OpenSSH\r\n\r\n', error: 'invalid status line' },
    { name: 'HTTP/2 status line', wire: 'HTTP/2 200\r\n\r\n', error: 'invalid status line' },
    { name: 'short status', wire: 'HTTP/1.1 20 OK\r\n\r\n', error: 'invalid status line' },
    { name: 'header without colon', wire: `${OK}oops\r\n\r\n`, error: 'invalid header line' },
    { name: 'obsolete line folding', wire: `${OK}a: b\r\n c\r\n\r\n`, error: 'invalid header line' },
    { name: 'space in a header name', wire: `${OK}a b: c\r\n\r\n`, error: 'invalid header name' },
    { name: 'a bare LF in a value', wire: `${OK}a: b\nc: d\r\n\r\n`, error: 'invalid header value' },
    { name: 'a bare CR in a value', wire: `${OK}a: b\rc\r\n\r\n`, error: 'invalid header value' },
    { name: 'a NUL in a value', wire: `${OK}a: b\u0000\r\n\r\n`, error: 'invalid header value' },
    {
      name: 'a bare LF in a trailer',
      wire: `${OK}transfer-encoding: chunked\r\n\r\n0\r\nt: a\nb\r\n\r\n`,
      error: 'invalid trailer value',
    },
    {
      name: 'both framings',
      wire: `${OK}content-length: 1\r\ntransfer-encoding: chunked\r\n\r\n`,
      error: 'both transfer-encoding and content-length',
    },
    { name: 'bad content-length', wire: `${OK}content-length: -1\r\n\r\n`, error: 'invalid content-length' },
    {
      name: 'conflicting content-lengths',
      wire: `${OK}content-length: 1\r\ncontent-length: 2\r\n\r\n`,
      error: 'conflicting content-length',
    },
    {
      name: 'bad chunk size',
      wire: `${OK}transfer-encoding: chunked\r\n\r\nzz\r\n`,
      error: 'invalid chunk size',
    },
    {
      name: 'chunk data longer than its size',
      wire: `${OK}transfer-encoding: chunked\r\n\r\n1\r\nab\r\n`,
      error: 'chunk not followed by CRLF',
    },
    { name: '101 on a pooled connection', wire: 'HTTP/1.1 101 Switching\r\n\r\n', error: 'unexpected 101' },
    {
      name: 'bytes after the response',
      wire: `${OK}content-length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n`,
      error: 'no request outstanding',
    },
  ])('rejects $name', ({ wire, error }) => {
    expect(parse(wire).error).toContain(error);
    expect(parse(wire, { step: 1 }).error).toContain(error);
  });

  it('rejects a head larger than the limit instead of buffering forever', () => {
    const huge = `${OK}x: ${'a'.repeat(70 * 1024)}`;
    expect(parse(huge, { step: 8192 }).error).toBe('response head too large');
  });

  it('reports a response cut short when the connection ends', () => {
    const sink = new Recording();
    const parser = new Http1ResponseParser(sink);
    parser.expect(false);
    expect(parser.execute(Buffer.from(`${OK}content-length: 10\r\n\r\nabc`))).toBeUndefined();
    expect(parser.finish()?.message).toBe('upstream closed mid-response');
  });

  it('parses one response after another on a kept-alive connection', () => {
    const sink = new Recording();
    const parser = new Http1ResponseParser(sink);
    for (const body of ['one', 'two']) {
      parser.expect(false);
      expect(parser.execute(Buffer.from(`${OK}content-length: 3\r\n\r\n${body}`))).toBeUndefined();
    }
    expect(sink.events.map((e) => e.body)).toEqual(['one', 'two']);
  });
});
