import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { buildConnector } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Client } from './http1-client.ts';
import { UpstreamError } from './upstream-errors.ts';
import type { OutgoingHeaders, UpstreamControl, UpstreamRequest } from './upstream-pool.ts';

interface Outcome {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body: string;
  trailers?: Record<string, string | string[] | undefined>;
  error?: UpstreamError;
  started: boolean;
}

function request(overrides: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return { method: 'GET', path: '/', authority: 'svc.test', headers: {}, body: null, ...overrides };
}

/** Sends one request; resolves when it ends or fails. `onData` may ask for a pause. */
function send(
  client: Http1Client,
  req: UpstreamRequest,
  hooks: { onData?: (control: UpstreamControl, chunk: Buffer) => boolean; onStart?: () => void } = {},
): { control: UpstreamControl; done: Promise<Outcome> } {
  const outcome: Outcome = { body: '', started: false };
  let control!: UpstreamControl;
  const done = new Promise<Outcome>((resolve) => {
    control = client.send(req, {
      onStart() {
        outcome.started = true;
        hooks.onStart?.();
      },
      onHeaders(status, headers) {
        outcome.status = status;
        outcome.headers = headers;
      },
      onData(chunk) {
        outcome.body += chunk.toString();
        return hooks.onData ? hooks.onData(control, chunk) : true;
      },
      onEnd(trailers) {
        outcome.trailers = trailers;
        resolve(outcome);
      },
      onError(error) {
        outcome.error = error;
        resolve(outcome);
      },
    });
  });
  return { control, done };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A node:http server on loopback; counts connections and hands each request to `handler`. */
async function server(handler: http.RequestListener): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const s = http.createServer(handler);
  s.on('connection', () => connections++);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  );
  return { port: (s.address() as AddressInfo).port, connections: () => connections };
}

/** A raw TCP server whose connections `onSocket` scripts. */
async function rawServer(onSocket: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        s.close(() => resolve());
      }),
  );
  return (s.address() as AddressInfo).port;
}

function client(port: number, maxConnections = 8): Http1Client {
  const c = new Http1Client({
    connector: buildConnector({ timeout: 1000 }),
    connectOptions: {
      hostname: '127.0.0.1',
      host: `127.0.0.1:${port}`,
      protocol: 'http:',
      port: String(port),
    },
    maxConnections,
    keepAliveTimeoutMs: 60_000,
  });
  cleanups.push(() => c.close());
  return c;
}

describe('Http1Client', () => {
  it('reuses one keep-alive connection for sequential requests and sends Host and headers', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const upstream = await server((req, res) => {
      seen.push(req.headers);
      res.end(`hello ${req.url}`);
    });
    const c = client(upstream.port);
    for (const path of ['/a', '/b', '/c']) {
      const { done } = send(c, request({ path, headers: { 'x-multi': ['1', '2'], 'x-one': 'v' } }));
      const outcome = await done;
      expect([outcome.status, outcome.body, outcome.started]).toEqual([200, `hello ${path}`, true]);
    }
    expect(upstream.connections()).toBe(1);
    expect(c.connections).toBe(1);
    expect(seen[0]).toMatchObject({ host: 'svc.test', 'x-multi': '1, 2', 'x-one': 'v' });
  });

  it('opens at most maxConnections and queues the rest (they are not started until they get one)', async () => {
    const waiting: http.ServerResponse[] = [];
    const upstream = await server((_req, res) => waiting.push(res));
    const c = client(upstream.port, 2);
    let started = 0;
    const sent = [1, 2, 3, 4].map(() => send(c, request(), { onStart: () => started++ }));
    await expect.poll(() => waiting.length).toBe(2);
    expect(started).toBe(2);
    for (const res of waiting.splice(0)) res.end('x');
    await expect.poll(() => waiting.length).toBe(2);
    for (const res of waiting.splice(0)) res.end('y');
    const outcomes = await Promise.all(sent.map((s) => s.done));
    expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200, 200]);
    expect(upstream.connections()).toBe(2);
  });

  it.each([
    {
      name: 'a buffered body with its own content-length',
      body: () => Buffer.from('buffered'),
      headers: { 'content-length': '999' } as OutgoingHeaders,
      framing: { 'content-length': '8' },
      expected: 'buffered',
    },
    {
      name: 'a stream of unknown length, chunked',
      body: () => {
        const p = new PassThrough();
        p.write('str');
        setTimeout(() => p.end('eam'), 10);
        return p;
      },
      headers: {} as OutgoingHeaders,
      framing: { 'transfer-encoding': 'chunked' },
      expected: 'stream',
    },
    {
      name: 'a stream with a declared content-length, raw',
      body: () => {
        const p = new PassThrough();
        p.end('sized');
        return p;
      },
      headers: { 'content-length': '5' } as OutgoingHeaders,
      framing: { 'content-length': '5' },
      expected: 'sized',
    },
    {
      name: 'no body on a POST: content-length 0',
      body: () => null,
      headers: {} as OutgoingHeaders,
      framing: { 'content-length': '0' },
      expected: '',
    },
  ])('sends $name', async ({ body, headers, framing, expected }) => {
    let received: { body: string; headers: http.IncomingHttpHeaders } | undefined;
    const upstream = await server((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received = { body: Buffer.concat(chunks).toString(), headers: req.headers };
        res.end('ok');
      });
    });
    const c = client(upstream.port);
    const outcome = await send(c, request({ method: 'POST', headers, body: body() })).done;
    expect(outcome.status).toBe(200);
    expect(received?.body).toBe(expected);
    expect(received?.headers).toMatchObject(framing);
    // The connection is still good for the next request.
    expect((await send(c, request()).done).status).toBe(200);
    expect(upstream.connections()).toBe(1);
  });

  it('streams a large response with backpressure: pause, then resume', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const upstream = await server((_req, res) => res.end(big));
    const c = client(upstream.port);
    let pauses = 0;
    const outcome = await send(c, request(), {
      onData: (control) => {
        pauses++;
        setTimeout(() => control.resume(), 1);
        return false;
      },
    }).done;
    expect(outcome.body.length).toBe(big.length);
    expect(pauses).toBeGreaterThan(1);
  });

  it('passes trailers of a chunked response', async () => {
    const upstream = await server((_req, res) => {
      res.writeHead(200, { trailer: 'grpc-status' });
      res.write('a');
      res.addTrailers({ 'grpc-status': '0' });
      res.end('b');
    });
    const outcome = await send(client(upstream.port), request()).done;
    expect([outcome.body, outcome.trailers]).toEqual(['ab', { 'grpc-status': '0' }]);
  });

  it('fails a refused connection as CONNECT_FAILURE, not started', async () => {
    // A port that was just free: nothing listens there.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const outcome = await send(client(closedPort), request()).done;
    expect([outcome.error?.code, outcome.started]).toEqual(['CONNECT_FAILURE', false]);
  });

  it.each([
    { name: 'before the response', script: (s: net.Socket) => s.once('data', () => s.destroy()) },
    {
      name: 'in the middle of the body',
      script: (s: net.Socket) =>
        s.once('data', () => {
          s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
          setTimeout(() => s.destroy(), 5);
        }),
    },
    {
      name: 'with a malformed response',
      script: (s: net.Socket) => s.once('data', () => s.write('HTTP/9 nonsense\r\n\r\n')),
    },
  ])('fails a connection reset $name as RESET', async ({ script }) => {
    const port = await rawServer(script);
    const outcome = await send(client(port), request()).done;
    expect(outcome.error?.code).toBe('RESET');
  });

  it('abort fails the exchange with the given error and closes its connection; the next request gets a new one', async () => {
    const waiting: http.ServerResponse[] = [];
    const upstream = await server((req, res) => {
      if (req.url === '/slow') waiting.push(res);
      else res.end('fast');
    });
    const c = client(upstream.port);
    const slow = send(c, request({ path: '/slow' }));
    await expect.poll(() => waiting.length).toBe(1);
    slow.control.abort(new UpstreamError('TIMEOUT', 'per-try timeout'));
    expect((await slow.done).error?.message).toBe('per-try timeout');
    expect((await send(c, request()).done).body).toBe('fast');
    expect(upstream.connections()).toBe(2);
  });

  it('aborting a queued request removes it from the queue', async () => {
    const waiting: http.ServerResponse[] = [];
    const upstream = await server((_req, res) => waiting.push(res));
    const c = client(upstream.port, 1);
    const first = send(c, request());
    const queued = send(c, request());
    await expect.poll(() => waiting.length).toBe(1);
    queued.control.abort(new UpstreamError('CANCELLED', 'downstream went away'));
    expect((await queued.done).error?.code).toBe('CANCELLED');
    waiting[0]!.end('one');
    expect((await first.done).body).toBe('one');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(waiting).toHaveLength(1);
  });

  it("closes a connection the server asks to close, and honours the server's keep-alive timeout", async () => {
    const upstream = await server((req, res) => {
      if (req.url === '/close') res.setHeader('connection', 'close');
      else res.setHeader('keep-alive', 'timeout=1');
      res.end('x');
    });
    const c = client(upstream.port);
    await send(c, request({ path: '/close' })).done;
    await send(c, request({ path: '/short' })).done;
    await send(c, request()).done;
    expect(upstream.connections()).toBe(3);
  });

  it('refuses a header value that would split the request, without sending anything', async () => {
    let requests = 0;
    const upstream = await server((_req, res) => {
      requests++;
      res.end();
    });
    const c = client(upstream.port);
    const outcome = await send(c, request({ headers: { 'x-evil': 'a\r\nx-injected: 1' } })).done;
    expect(outcome.error?.code).toBe('CONNECT_FAILURE');
    expect(requests).toBe(0);
  });

  it('close waits for in-flight requests, then closes every connection', async () => {
    const waiting: http.ServerResponse[] = [];
    const upstream = await server((_req, res) => waiting.push(res));
    const c = client(upstream.port);
    const inflight = send(c, request());
    await expect.poll(() => waiting.length).toBe(1);
    let closed = false;
    const closing = c.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    waiting[0]!.end('last');
    expect((await inflight.done).body).toBe('last');
    await closing;
    expect(c.connections).toBe(0);
    expect((await send(c, request()).done).error?.code).toBe('CONNECT_FAILURE');
  });
});
