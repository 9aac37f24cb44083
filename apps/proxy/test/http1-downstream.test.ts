/**
 * HTTP/1.1 downstream over raw sockets: pipelining, chunked bodies (also
 * replayed on retry), Expect: 100-continue. The proxy runs in process with
 * static resources (validated exactly as xDS ones).
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
    listeners: [listener('http', 0, [filterChain(httpConnectionManager('80'))])],
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
): Promise<string> {
  const port = proxy.listenerAddress('http')!.port;
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
});
