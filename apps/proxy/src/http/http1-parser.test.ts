import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder } from './http1-chunked-decoder.ts';
import { type HeadResult, parseContentLength, parseRequestHead, rawHeaderPairs } from './http1-parser.ts';

const LIMITS = { maxHeadBytes: 1024, maxHeaders: 10 };

/** A request head from lines (joined with CRLF, ended by an empty line). */
function head(...lines: string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function parse(bytes: Buffer | string, limits = LIMITS): HeadResult {
  return parseRequestHead(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, 0, limits);
}

function parsed(bytes: Buffer | string) {
  const result = parse(bytes);
  if (result.kind !== 'head') throw new Error(`expected a head, got ${JSON.stringify(result)}`);
  return result.head;
}

describe('parseRequestHead', () => {
  it('parses a request line and lowercases header names', () => {
    const bytes = head('GET /a?b=1 HTTP/1.1', 'Host: x.local', 'X-Thing:  v  ');
    const result = parse(bytes);
    expect(result).toMatchObject({ kind: 'head', end: bytes.length });
    const h = parsed(bytes);
    expect({ method: h.method, url: h.url, minor: h.versionMinor }).toEqual({
      method: 'GET',
      url: '/a?b=1',
      minor: 1,
    });
    expect({ ...h.headers }).toEqual({ host: 'x.local', 'x-thing': 'v' });
    expect(h.framing).toEqual({ kind: 'none' });
    expect(h.keepAlive).toBe(true);
  });

  it('waits for the rest of a head', () => {
    expect(parse('GET / HTTP/1.1\r\nHost: x\r\n')).toEqual({ kind: 'incomplete' });
    expect(parse('GET / HTTP/1.1\r\nHost: x\r\n\r')).toEqual({ kind: 'incomplete' });
  });

  it('joins repeated headers as node:http does', () => {
    const h = parsed(
      head(
        'GET / HTTP/1.1',
        'Host: x',
        'Accept: a',
        'accept: b',
        'Cookie: c=1',
        'Cookie: d=2',
        'Set-Cookie: s=1',
        'Set-Cookie: s=2',
        'Content-Type: text/plain',
        'Content-Type: text/html',
      ),
    );
    expect({ ...h.headers }).toEqual({
      host: 'x',
      accept: 'a, b',
      cookie: 'c=1; d=2',
      'set-cookie': ['s=1', 's=2'],
      'content-type': 'text/plain',
    });
  });

  it('keeps prototype-named headers as plain headers', () => {
    const h = parsed(head('GET / HTTP/1.1', 'Host: x', '__proto__: p', 'constructor: c'));
    expect(Object.getOwnPropertyDescriptor(h.headers, '__proto__')?.value).toBe('p');
    expect(h.headers.constructor).toBe('c');
    expect(parsed(head('GET / HTTP/1.1', 'Host: x')).headers.constructor).toBeUndefined();
  });

  it.each([
    { name: 'HTTP/1.1', lines: ['GET / HTTP/1.1', 'Host: x'], keepAlive: true },
    { name: 'HTTP/1.1 close', lines: ['GET / HTTP/1.1', 'Host: x', 'Connection: close'], keepAlive: false },
    {
      name: 'HTTP/1.1 close in a list',
      lines: ['GET / HTTP/1.1', 'Host: x', 'Connection: te, Close'],
      keepAlive: false,
    },
    { name: 'HTTP/1.0', lines: ['GET / HTTP/1.0'], keepAlive: false },
    { name: 'HTTP/1.0 keep-alive', lines: ['GET / HTTP/1.0', 'Connection: Keep-Alive'], keepAlive: true },
  ])('applies RFC 9112 persistence rules: $name', ({ lines, keepAlive }) => {
    expect(parsed(head(...lines)).keepAlive).toBe(keepAlive);
  });

  it.each([
    { name: 'content-length', lines: ['Content-Length: 5'], framing: { kind: 'length', length: 5 } },
    {
      name: 'identical content-length list',
      lines: ['Content-Length: 5, 5'],
      framing: { kind: 'length', length: 5 },
    },
    {
      name: 'repeated identical content-length',
      lines: ['Content-Length: 7', 'Content-Length: 7'],
      framing: { kind: 'length', length: 7 },
    },
    { name: 'zero content-length', lines: ['Content-Length: 0'], framing: { kind: 'none' } },
    { name: 'chunked', lines: ['Transfer-Encoding: chunked'], framing: { kind: 'chunked' } },
    {
      name: 'chunked with OWS and case',
      lines: ['Transfer-Encoding:\tChunked '],
      framing: { kind: 'chunked' },
    },
  ])('frames the body: $name', ({ lines, framing }) => {
    expect(parsed(head('POST / HTTP/1.1', 'Host: x', ...lines)).framing).toEqual(framing);
  });

  it('normalises content-length for the filters', () => {
    expect(
      parsed(head('POST / HTTP/1.1', 'Host: x', 'Content-Length: 0005, 5')).headers['content-length'],
    ).toBe('5');
  });

  it.each([
    { name: 'a bare LF line end', bytes: 'GET / HTTP/1.1\nHost: x\r\n\r\n', status: 400 },
    { name: 'a bare LF head end', bytes: 'GET / HTTP/1.1\r\nHost: x\n\n', status: 400 },
    { name: 'a bare CR in a value', bytes: 'GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n', status: 400 },
    { name: 'obs-fold', bytes: 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', status: 400 },
    {
      name: 'space before the colon',
      bytes: 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n',
      status: 400,
    },
    {
      name: 'a header line without colon',
      bytes: 'GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n',
      status: 400,
    },
    { name: 'a NUL in a value', bytes: 'GET / HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n', status: 400 },
    {
      name: 'a control character in a name',
      bytes: 'GET / HTTP/1.1\r\nHost: x\r\nX\u0001: a\r\n\r\n',
      status: 400,
    },
    { name: 'a space in the target', bytes: 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
    { name: 'two spaces after the method', bytes: 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
    { name: 'a lowercase version', bytes: 'GET / http/1.1\r\nHost: x\r\n\r\n', status: 400 },
    { name: 'HTTP/2.0 on the HTTP/1 codec', bytes: 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', status: 505 },
    { name: 'a missing Host on HTTP/1.1', bytes: 'GET / HTTP/1.1\r\n\r\n', status: 400 },
    { name: 'two Host headers', bytes: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', status: 400 },
    {
      name: 'both Content-Length and Transfer-Encoding (CL.TE / TE.CL)',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n',
      status: 400,
    },
    {
      name: 'differing Content-Length lines',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n',
      status: 400,
    },
    {
      name: 'a differing Content-Length list',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 5\r\n\r\n',
      status: 400,
    },
    {
      name: 'a signed Content-Length',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\n',
      status: 400,
    },
    {
      name: 'an empty Content-Length',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n',
      status: 400,
    },
    {
      name: 'Transfer-Encoding not ending in chunked (TE.TE)',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
      status: 400,
    },
    {
      name: 'an obfuscated coding (TE.TE)',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n',
      status: 400,
    },
    {
      name: 'a second Transfer-Encoding line (TE.TE)',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n\r\n',
      status: 400,
    },
    {
      name: 'chunked twice',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
      status: 400,
    },
    {
      name: 'an unknown coding before chunked',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
      status: 501,
    },
    {
      name: 'Transfer-Encoding on HTTP/1.0',
      bytes: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
      status: 400,
    },
    {
      name: 'an unknown expectation',
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n',
      status: 417,
    },
  ])('rejects $name with $status', ({ bytes, status }) => {
    expect(parse(bytes)).toMatchObject({ kind: 'error', status });
  });

  it('answers 431 when the head outgrows the limit, complete or not', () => {
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}`;
    expect(parse(big)).toMatchObject({ kind: 'error', status: 431 });
    expect(parse(`${big}\r\n\r\n`)).toMatchObject({ kind: 'error', status: 431 });
  });

  it('answers 431 for more header lines than allowed', () => {
    const lines = Array.from({ length: 11 }, (_, i) => `X-${i}: v`);
    expect(parse(head('GET / HTTP/1.1', 'Host: x', ...lines))).toMatchObject({ kind: 'error', status: 431 });
    expect(parse(head('GET / HTTP/1.1', 'Host: x', ...lines.slice(2)))).toMatchObject({ kind: 'head' });
  });

  it('marks upgrades and 100-continue', () => {
    const upgrade = parsed(head('GET /ws HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade'));
    expect(upgrade.upgrade).toBe(true);
    expect(parsed(head('GET /ws HTTP/1.1', 'Host: x', 'Upgrade: websocket')).upgrade).toBe(false);
    expect(parsed(head('POST / HTTP/1.1', 'Host: x', 'Expect: 100-Continue')).expectContinue).toBe(true);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = parse(Buffer.from(bytes));
        expect(['incomplete', 'error', 'head']).toContain(result.kind);
      }),
    );
  });

  it('lists raw header lines for the upgrade path', () => {
    const bytes = head('GET /ws HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Sec-WebSocket-Key:  k ');
    expect(rawHeaderPairs(bytes, 0, bytes.length)).toEqual([
      'Host',
      'x',
      'Upgrade',
      'websocket',
      'Sec-WebSocket-Key',
      'k',
    ]);
  });
});

describe('parseContentLength', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['7, 7,7', 7],
    ['', -1],
    ['1 2', -1],
    ['0x10', -1],
    ['-1', -1],
    ['9999999999999999', -1],
  ])('%j is %d', (value, expected) => {
    expect(parseContentLength(value)).toBe(expected);
  });
});

/** Feeds `text` to a decoder in pieces of `step` bytes; returns the data, where it stopped, and the error. */
function decode(text: string, step = text.length) {
  const decoder = new ChunkedDecoder(64);
  const bytes = Buffer.from(text, 'latin1');
  const data: Buffer[] = [];
  let end = -1;
  for (let start = 0; start < bytes.length && !decoder.done; start += step) {
    const piece = bytes.subarray(start, Math.min(bytes.length, start + step));
    const stop = decoder.decode(piece, 0, (d) => data.push(Buffer.from(d)));
    if (stop < 0) return { data: Buffer.concat(data).toString('latin1'), error: decoder.error, end: -1 };
    end = start + stop;
  }
  return { data: Buffer.concat(data).toString('latin1'), error: decoder.error, end, done: decoder.done };
}

describe('ChunkedDecoder', () => {
  const body = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\nNEXT';

  it.each([1, 2, 3, 7, 100])('decodes a body fed %d bytes at a time and stops at its end', (step) => {
    const result = decode(body, step);
    expect(result.data).toBe('hello world');
    expect(result.done).toBe(true);
    expect(body.slice(result.end)).toBe('NEXT');
  });

  it('reads and drops trailer fields', () => {
    expect(decode('3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n')).toMatchObject({ data: 'abc', done: true });
  });

  it.each([
    { name: 'a non-hex size', text: 'g\r\nx\r\n0\r\n\r\n' },
    { name: 'an empty size', text: '\r\nx\r\n0\r\n\r\n' },
    { name: 'a bare LF after the size', text: '1\nx\r\n0\r\n\r\n' },
    { name: 'data longer than its size (TE.CL)', text: '1\r\nxy\r\n0\r\n\r\n' },
    { name: 'a bare LF after data', text: '1\r\nx\n0\r\n\r\n' },
    { name: 'whitespace without an extension', text: '1 \r\nx\r\n0\r\n\r\n' },
    { name: 'a control character in an extension', text: '1;a\u0001\r\nx\r\n0\r\n\r\n' },
    { name: 'a huge size', text: 'fffffffffffffffff\r\n' },
    { name: 'a malformed trailer', text: '0\r\nbad trailer\r\n\r\n' },
    { name: 'a trailer section over the limit', text: `0\r\nX: ${'a'.repeat(100)}\r\n\r\n` },
  ])('rejects $name', ({ text }) => {
    const result = decode(text);
    expect(result.end).toBe(-1);
    expect(result.error).not.toBe('');
  });

  it('accepts an extension after whitespace', () => {
    expect(decode('1 ;a=b\r\nx\r\n0\r\n\r\n')).toMatchObject({ data: 'x', done: true });
  });
});
