/**
 * HTTP/1.1 downstream over raw sockets: pipelining, chunked bodies (also
 * replayed on retry), Expect: 100-continue, persistence rules, response
 * framing, request smuggling attempts (the backend must never see a second,
 * hidden request), header limits and the idle timeout. The proxy runs in
 * process with static resources (validated exactly as xDS ones).
 */
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WeftProxy } from '../src/proxy.ts';
import {
  duration,
  filterChain,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  virtualHost,
} from '../src/testing/builders.ts';
import { type Backend, startBackend, startStaticProxy } from './support/harness.ts';

let proxy: WeftProxy;
let a: Backend;

beforeAll(async () => {
  a = await startBackend('a');
  proxy = await startStaticProxy({
    clusters: [staticCluster('a', [{ port: a.port }])],
    listeners: [
      listener('http', 0, [filterChain(httpConnectionManager('80'))]),
      listener('short-idle', 0, [
        filterChain(
          httpConnectionManager('80', { commonHttpProtocolOptions: { idleTimeout: duration(150) } }),
        ),
      ]),
    ],
    routes: [
      routeConfiguration('80', [
        virtualHost('a', ['a.local'], [routeTo('a')]),
        virtualHost(
          'retry',
          ['retry.local'],
          [
            routeTo(
              'a',
              { prefix: '/' },
              {
                retryPolicy: {
                  retryOn: '5xx',
                  numRetries: { value: 1 },
                  retryBackOff: { baseInterval: duration(1) },
                },
              },
            ),
          ],
        ),
      ]),
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await a?.close();
});

beforeEach(() => {
  a.requests.length = 0;
  a.statuses = [];
});

/** Writes raw bytes to the proxy and collects what comes back until `done(text)` or the socket closes. */
function raw(
  bytes: string,
  done: (text: string) => boolean,
  onData?: (text: string, socket: net.Socket) => void,
  listenerName = 'http',
): Promise<string> {
  const port = proxy.listenerAddress(listenerName)!.port;
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      onData?.(text, socket);
      if (done(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.setTimeout(3000, () => socket.destroy());
  });
}

describe('HTTP/1.1 downstream', () => {
  it('answers pipelined requests in order on one connection', async () => {
    const text = await raw(
      'GET /first HTTP/1.1\r\nHost: a.local\r\n\r\nGET /second HTTP/1.1\r\nHost: a.local\r\n\r\n',
      (t) => (t.match(/HTTP\/1\.1 200/g) ?? []).length === 2 && t.includes('"url":"/second"'),
    );
    expect(text.indexOf('"url":"/first"')).toBeLessThan(text.indexOf('"url":"/second"'));
  });

  it('streams a chunked request body upstream', async () => {
    const text = await raw(
      'POST /upload HTTP/1.1\r\nHost: a.local\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      (t) => t.includes('"body":"hello world"'),
    );
    expect(text).toContain('"body":"hello world"');
  });

  it('replays a chunked request body on retry', async () => {
    a.statuses = [503];
    const text = await raw(
      'POST /again HTTP/1.1\r\nHost: retry.local\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      (t) => t.includes('"body":"hello world"'),
    );
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(a.requests.map((r) => r.body)).toEqual(['hello world', 'hello world']);
  });

  it('answers Expect: 100-continue before the body is sent', async () => {
    const text = await raw(
      'POST /expect HTTP/1.1\r\nHost: a.local\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n',
      (t) => t.includes('"body":"ping"'),
      (t, socket) => {
        if (t.startsWith('HTTP/1.1 100') && !t.includes('200')) socket.write('ping');
      },
    );
    expect(text.startsWith('HTTP/1.1 100 Continue')).toBe(true);
  });

  it('reads a Content-Length body exactly and serves the next pipelined request', async () => {
    const text = await raw(
      'POST /first HTTP/1.1\r\nHost: a.local\r\nContent-Length: 5\r\n\r\nhelloGET /second HTTP/1.1\r\nHost: a.local\r\n\r\n',
      (t) => t.includes('"url":"/second"'),
    );
    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(a.requests.map((r) => [r.url, r.body])).toEqual([
      ['/first', 'hello'],
      ['/second', ''],
    ]);
  });

  it.each([
    {
      name: 'HTTP/1.0 without keep-alive',
      request: 'GET /x HTTP/1.0\r\nHost: a.local\r\n\r\n',
      status: 200,
      connection: 'close',
    },
    {
      name: 'HTTP/1.1 with Connection: close',
      request: 'GET /x HTTP/1.1\r\nHost: a.local\r\nConnection: close\r\n\r\n',
      status: 200,
      connection: 'close',
    },
    {
      name: 'HTTP/1.0 keep-alive and an unknown-length response (close-delimited)',
      request: 'GET /x HTTP/1.0\r\nHost: a.local\r\nConnection: keep-alive\r\n\r\n',
      status: 200,
      connection: 'close',
    },
    {
      name: 'HTTP/1.0 keep-alive and a known-length response',
      request: 'GET /x HTTP/1.0\r\nHost: nowhere.local\r\nConnection: keep-alive\r\n\r\n',
      status: 404,
      connection: 'keep-alive',
    },
    {
      name: 'HTTP/1.1 default',
      request: 'GET /x HTTP/1.1\r\nHost: nowhere.local\r\n\r\n',
      status: 404,
      connection: undefined,
    },
  ])('applies persistence rules: $name', async ({ request, status, connection }) => {
    let closedByProxy = true;
    const text = await raw(request, (t) => {
      // A kept-alive connection stays open: stop once the whole response is in.
      const done = connection !== 'close' && t.includes('\r\n\r\n');
      if (done) closedByProxy = false;
      return done;
    });
    expect(text.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    const head = text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();
    expect(head.match(/\r\nconnection: ([^\r]*)/)?.[1]).toBe(connection);
    expect(closedByProxy).toBe(connection === 'close');
    // HTTP/1.0 clients never get the chunked coding.
    if (request.includes('HTTP/1.0')) expect(head).not.toContain('transfer-encoding');
  });

  it('frames an unknown-length response as chunked for HTTP/1.1 and sends no body for HEAD', async () => {
    const get = await raw('GET /c HTTP/1.1\r\nHost: a.local\r\n\r\n', (t) => t.endsWith('0\r\n\r\n'));
    expect(get.toLowerCase()).toContain('transfer-encoding: chunked');
    const head = await raw('HEAD /h HTTP/1.1\r\nHost: a.local\r\n\r\n', (t) => t.includes('\r\n\r\n'));
    await new Promise((r) => setTimeout(r, 50));
    expect(head.slice(head.indexOf('\r\n\r\n') + 4)).toBe('');
  });

  it.each([
    {
      name: 'CL.TE (Content-Length and Transfer-Encoding)',
      bytes:
        'POST / HTTP/1.1\r\nHost: a.local\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a.local\r\n\r\n',
    },
    {
      name: 'TE.CL (Transfer-Encoding and a short Content-Length)',
      bytes:
        'POST / HTTP/1.1\r\nHost: a.local\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n2c\r\nGET /smuggled HTTP/1.1\r\nHost: a.local\r\n\r\n\r\n0\r\n\r\n',
    },
    {
      name: 'TE.TE (a second, bogus Transfer-Encoding)',
      bytes:
        'POST / HTTP/1.1\r\nHost: a.local\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a.local\r\n\r\n',
    },
    {
      name: 'TE.TE (space before the colon)',
      bytes:
        'POST / HTTP/1.1\r\nHost: a.local\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a.local\r\n\r\n',
    },
    {
      name: 'TE.TE (obs-fold)',
      bytes:
        'POST / HTTP/1.1\r\nHost: a.local\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a.local\r\n\r\n',
    },
    {
      name: 'chunk data longer than its size',
      bytes:
        'POST / HTTP/1.1\r\nHost: a.local\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxGET /smuggled HTTP/1.1\r\nHost: a.local\r\n\r\n0\r\n\r\n',
    },
    {
      name: 'a bare LF ending the head',
      bytes: 'GET / HTTP/1.1\nHost: a.local\n\nGET /smuggled HTTP/1.1\r\nHost: a.local\r\n\r\n',
    },
  ])('refuses request smuggling: $name', async ({ bytes }) => {
    const text = await raw(bytes, () => false);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.requests.map((r) => r.url)).not.toContain('/smuggled');
    expect(a.requests).toEqual([]);
  });

  it('answers 431 for more than 100 request headers', async () => {
    const headers = Array.from({ length: 101 }, (_, i) => `x-h${i}: v\r\n`).join('');
    const text = await raw(`GET / HTTP/1.1\r\nHost: a.local\r\n${headers}\r\n`, () => false);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(a.requests).toEqual([]);
  });

  it('closes a keep-alive connection after the idle timeout', async () => {
    const started = Date.now();
    const text = await raw(
      'GET /idle HTTP/1.1\r\nHost: a.local\r\n\r\n',
      () => false,
      undefined,
      'short-idle',
    );
    const elapsed = Date.now() - started;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2500);
  });
});
