/**
 * End to end over other protocols: h2c with gRPC-style trailers to an
 * HTTP/2 upstream, TCP proxy chains picked by destination port, bad bytes
 * on the HTTP listener (property test), and serving the last good config
 * while the control plane is down.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { Readable } from 'node:stream';
import { createLogger } from '@weft/telemetry';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type WeftProxy } from '../src/proxy.ts';
import {
  clusterLoadAssignment,
  edsCluster,
  filterChain,
  http2ProtocolOptions,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  tcpProxy,
  virtualHost,
} from '../src/testing/builders.ts';
import { samples, sampleValue } from '../src/testing/prometheus-samples.ts';
import {
  type Backend,
  type ControlPlane,
  NODE_ID,
  startBackend,
  startControlPlane,
  waitUntil,
} from './support/harness.ts';

let plane: ControlPlane;
let proxy: WeftProxy;
let web: Backend;
let grpcServer: http2.Http2Server;
let grpcPort: number;
let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  web = await startBackend('web');
  grpcServer = http2.createServer();
  let flaky = 0;
  grpcServer.on('stream', (stream, headers) => {
    if (String(headers[':path']).endsWith('/Flaky') && flaky++ === 0) {
      // A trailers-only gRPC error: UNAVAILABLE.
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' },
        { endStream: true },
      );
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
      stream.end(Buffer.concat([Buffer.from(`${headers[':path']}|`), ...chunks]));
    });
  });
  await new Promise<void>((r) => grpcServer.listen(0, '127.0.0.1', r));
  grpcPort = (grpcServer.address() as net.AddressInfo).port;
  echo = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;

  plane = await startControlPlane();
  plane.push({
    clusters: [
      edsCluster('web'),
      edsCluster('grpc', http2ProtocolOptions()),
      edsCluster('echo'),
      edsCluster('nowhere'),
    ],
    endpoints: [
      clusterLoadAssignment('web', [{ port: web.port }]),
      clusterLoadAssignment('grpc', [{ port: grpcPort }]),
      clusterLoadAssignment('echo', [{ port: echoPort }]),
      clusterLoadAssignment('nowhere', []),
    ],
    listeners: [
      listener('http', 0, [filterChain(httpConnectionManager('80'))]),
      listener('tcp', 0, [filterChain(tcpProxy('echo'))]),
      listener('tcp-idle', 0, [filterChain(tcpProxy('echo', { idleTimeout: { nanos: 150_000_000 } }))]),
    ],
    routes: [
      routeConfiguration('80', [
        virtualHost(
          'grpc',
          ['grpc.local'],
          [
            routeTo(
              'grpc',
              { prefix: '/', grpc: {} },
              {
                retryPolicy: {
                  retryOn: 'unavailable',
                  numRetries: { value: 1 },
                  retryBackOff: { baseInterval: { nanos: 1000000 } },
                },
              },
            ),
          ],
        ),
        virtualHost('nowhere', ['nowhere.grpc'], [routeTo('nowhere')]),
        virtualHost('web', ['*'], [routeTo('web')]),
      ]),
    ],
  });
  proxy = await startProxy({
    discoveryAddress: plane.address,
    node: { id: NODE_ID },
    admin: null,
    drainTimeMs: 100,
    logger: createLogger({ name: 'weft-proxy', level: 'error' }),
  });
  await waitUntil(
    () => proxy.isReady() && proxy.config.routes.has('80') && proxy.listenerAddress('tcp') !== undefined,
    'proxy ready',
  );
});

afterAll(async () => {
  await proxy?.close();
  await plane?.stop();
  await web?.close();
  grpcServer?.close();
  echo?.close();
});

function h2Call(
  path: string,
  body: string,
  authority = 'grpc.local',
): Promise<{ status: number; body: string; trailers: http2.IncomingHttpHeaders }> {
  const port = proxy.listenerAddress('http')!.port;
  return new Promise((resolve, reject) => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', reject);
    const stream = client.request({
      ':method': 'POST',
      ':path': path,
      ':authority': authority,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status = 0;
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      if (h['grpc-status'] !== undefined) trailers = h;
    });
    stream.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      client.close();
      resolve({ status, body: Buffer.concat(chunks).toString(), trailers });
    });
    stream.on('error', reject);
    stream.end(body);
  });
}

describe('HTTP/2', () => {
  it('proxies h2c prior knowledge to an HTTP/2 upstream with trailers', async () => {
    const res = await h2Call('/pkg.Echo/Say', 'hi');
    expect(res).toMatchObject({ status: 200, body: '/pkg.Echo/Say|hi' });
    expect(res.trailers['grpc-status']).toBe('0');
    expect(res.trailers['grpc-message']).toBe('ok');
  });
});

describe('gRPC retries', () => {
  it('retries a trailers-only UNAVAILABLE under retry_on unavailable', async () => {
    const res = await h2Call('/pkg.Echo/Flaky', 'again');
    expect(res).toMatchObject({ status: 200, body: '/pkg.Echo/Flaky|again' });
    expect(res.trailers['grpc-status']).toBe('0');
  });
});

describe('gRPC local replies', () => {
  it('answers a gRPC call with no healthy upstream trailers-only with grpc-status UNAVAILABLE', async () => {
    const res = await h2Call('/pkg.Echo/Say', 'hi', 'nowhere.grpc');
    expect(res.status).toBe(200);
    expect(res.trailers['grpc-status']).toBe('14');
    expect(decodeURIComponent(String(res.trailers['grpc-message']))).toBe('no healthy upstream');
  });
});

/** The summed value of a metric's samples whose labels include `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text, name, labels).reduce((sum, line) => sum + sampleValue(line), 0);
}

describe('Istio request metrics', () => {
  it('labels gRPC requests with the grpc-status of trailers, trailers-only replies and local replies', async () => {
    await h2Call('/pkg.Echo/Say', 'hi');
    await h2Call('/pkg.Echo/Say', 'hi', 'nowhere.grpc');
    const text = await proxy.metrics.scrape();
    expect(
      metricSum(text, 'istio_requests_total', { request_protocol: 'grpc', grpc_response_status: '0' }),
    ).toBeGreaterThan(0);
    expect(
      metricSum(text, 'istio_requests_total', { request_protocol: 'grpc', grpc_response_status: '14' }),
    ).toBeGreaterThan(0);
    expect(
      metricSum(text, 'istio_requests_total', { request_protocol: 'grpc', grpc_response_status: '' }),
    ).toBe(0);
  });

  it('counts the bytes of a chunked HTTP/1.1 request body', async () => {
    const before = metricSum(await proxy.metrics.scrape(), 'istio_request_bytes_sum');
    const port = proxy.listenerAddress('http')!.port;
    // A stream of unknown length: undici sends it chunked.
    const body = Readable.from([Buffer.alloc(1000, 'x'), Buffer.alloc(1000, 'x'), Buffer.alloc(1000, 'x')]);
    const res = await request(`http://127.0.0.1:${port}/upload`, { method: 'POST', body });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(await res.body.text()).headers['transfer-encoding']).toBe('chunked');
    const after = metricSum(await proxy.metrics.scrape(), 'istio_request_bytes_sum');
    expect(after - before).toBe(3000);
  });
});

describe('TCP proxy', () => {
  it('splices bytes both ways', async () => {
    const port = proxy.listenerAddress('tcp')!.port;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end('ping over tcp'));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
      socket.on('error', reject);
    });
    expect(reply).toBe('ping over tcp');
  });
});

describe('TCP proxy idle timeout', () => {
  it('closes both sides after the idle timeout', async () => {
    await waitUntil(() => proxy.listenerAddress('tcp-idle') !== undefined, 'idle listener bound');
    const port = proxy.listenerAddress('tcp-idle')!.port;
    const started = Date.now();
    const echoed = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('hi'));
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(3000, () => socket.destroy(new Error('not closed by the proxy')));
    });
    expect(echoed).toBe('hi');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

async function sendRaw(port: number, bytes: Uint8Array): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(Buffer.from(bytes)));
    socket.on('data', () => {});
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.setTimeout(2000, () => socket.destroy());
  });
}

describe('bad input', () => {
  it.each([
    {
      name: 'a malformed header line',
      raw: 'GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n',
      status: '400',
    },
    {
      name: 'oversized headers',
      raw: `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(70 * 1024)}\r\n\r\n`,
      status: '431',
    },
  ])('answers $name with $status and closes', async ({ raw, status }) => {
    const port = proxy.listenerAddress('http')!.port;
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => resolve(Buffer.concat(chunks).toString()));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
    expect(answer.split('\r\n')[0]).toContain(status);
  });

  it('answers or closes on random bytes and keeps serving valid requests', async () => {
    const port = proxy.listenerAddress('http')!.port;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 512 }),
          fc
            .string({ maxLength: 200 })
            .map((s) => new TextEncoder().encode(`GET /${s} HTTP/1.1\r\n${s}\r\n\r\n`)),
          fc
            .string({ maxLength: 100 })
            .map((s) => new TextEncoder().encode(`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${s}`)),
        ),
        async (bytes) => {
          await sendRaw(port, bytes);
          const res = await request(`http://127.0.0.1:${port}/after`, { headers: { host: 'web.local' } });
          expect(res.statusCode).toBe(200);
          await res.body.dump();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('control plane outage', () => {
  it('keeps serving the last good config while the control plane is down', async () => {
    await plane.stop();
    await waitUntil(() => proxy.ads?.connectionState() !== 'connected', 'ADS disconnected');
    const port = proxy.listenerAddress('http')!.port;
    const res = await request(`http://127.0.0.1:${port}/still`, { headers: { host: 'web.local' } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});
