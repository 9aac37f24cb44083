/**
 * The useOriginalDst hand-off on loopback: the proxy's original-destination
 * reader is replaced by one that returns the address the test says the
 * client dialled (what SO_ORIGINAL_DST returns under iptables REDIRECT; the
 * real thing is covered by netns.test.ts). Each case connects to the bound
 * capture listener and checks which upstream answered.
 */
import net, { type AddressInfo } from 'node:net';
import { createLogger } from '@weft/telemetry';
import {
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  resourceFromBody,
  type TypeUrl,
} from '@weft/xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OriginalDestination, SocketAddress } from '../../src/capture/original-dst.ts';
import type { Body } from '../../src/config/problems.ts';
import { startProxy, type WeftProxy } from '../../src/proxy.ts';
import { type Backend, NODE_ID, startBackend, waitUntil } from '../support/harness.ts';
import { captureConfig } from './capture-config.ts';

interface EchoServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A TCP server answering each connection's first chunk with `name:chunk`, then closing. */
async function startEcho(name: string): Promise<EchoServer> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk) => socket.end(`${name}:${chunk.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sends `message` over TCP to `port` and resolves with everything read until the peer closes. */
function tcpExchange(port: number, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(message));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.setTimeout(3000, () => socket.destroy(new Error('tcp exchange timed out')));
  });
}

/** One HTTP/1.1 request over a raw socket; resolves with the response head and body text. */
function httpExchange(port: number, host: string): Promise<string> {
  return tcpExchange(port, `GET /who HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
}

describe('useOriginalDst hand-off', () => {
  let proxy: WeftProxy;
  let httpBackend: Backend;
  let tcpEcho: EchoServer;
  let fallbackEcho: EchoServer;
  let appEcho: EchoServer;
  /** What the stand-in for SO_ORIGINAL_DST returns for the next accepted connection. */
  let dialled: SocketAddress | undefined;

  beforeAll(async () => {
    [httpBackend, tcpEcho, fallbackEcho, appEcho] = await Promise.all([
      startBackend('reviews'),
      startEcho('db'),
      startEcho('passthrough'),
      startEcho('app'),
    ]);
    const config = captureConfig({
      http: {
        hostname: 'reviews.default.svc',
        port: 9080,
        upstream: { host: '127.0.0.1', port: httpBackend.port },
      },
      // The VIP listener's port is where the passthrough echo listens on loopback: only the address tells them apart.
      tcp: {
        vip: '10.96.0.20',
        port: fallbackEcho.port,
        upstream: { host: '127.0.0.1', port: tcpEcho.port },
      },
      fallback: { host: '127.0.0.1', port: fallbackEcho.port },
      inbound: { port: 9080, upstream: { host: '127.0.0.1', port: appEcho.port } },
    });
    const of = (typeUrl: TypeUrl, bodies: Body[] = []): Resource[] =>
      bodies.map((b) => resourceFromBody(typeUrl, b as Record<string, unknown>));
    proxy = await startProxy({
      node: { id: NODE_ID },
      admin: null,
      logger: createLogger({ name: 'weft-proxy', level: 'error' }),
      staticResources: [...of(CLUSTER_TYPE_URL, config.clusters), ...of(LISTENER_TYPE_URL, config.listeners)],
      listenerAddresses: new Map([
        ['virtualOutbound', { host: '127.0.0.1', port: 0 }],
        ['virtualInbound', { host: '127.0.0.1', port: 0 }],
      ]),
      originalDestination: (socket): OriginalDestination => {
        const local = {
          host: socket.localAddress ?? '',
          port: socket.localPort ?? 0,
          source: 'local' as const,
        };
        const answer = dialled ? { ...dialled, source: 'conntrack' as const } : local;
        dialled = undefined;
        return answer;
      },
    });
    await waitUntil(
      () =>
        proxy.listenerAddress('virtualOutbound') !== undefined &&
        proxy.listenerAddress('virtualInbound') !== undefined,
      'capture listeners bound',
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([httpBackend?.close(), tcpEcho?.close(), fallbackEcho?.close(), appEcho?.close()]);
  });

  const outboundPort = (): number => proxy.listenerAddress('virtualOutbound')!.port;
  const inboundPort = (): number => proxy.listenerAddress('virtualInbound')!.port;

  it.each([
    {
      name: 'exact VIP listener (TCP)',
      dst: () => ({ host: '10.96.0.20', port: fallbackEcho.port }),
      expected: 'db:ping',
    },
    {
      name: 'other address on the VIP port: own chain, PassthroughCluster to the dialled address',
      dst: () => ({ host: '127.0.0.1', port: fallbackEcho.port }),
      expected: 'passthrough:ping',
    },
    {
      name: 'not redirected: PassthroughCluster has nowhere to go (closed)',
      dst: () => undefined,
      expected: '',
    },
  ])('virtualOutbound, $name', async ({ dst, expected }) => {
    dialled = dst();
    expect(await tcpExchange(outboundPort(), 'ping')).toBe(expected);
  });

  it('hands HTTP to the 0.0.0.0_PORT listener (bindToPort: false), which routes by Host', async () => {
    const before = httpBackend.requests.length;
    dialled = { host: '10.96.0.7', port: 9080 };
    const response = await httpExchange(outboundPort(), 'reviews.default.svc:9080');
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response.toLowerCase()).toContain('server: weft');
    expect(httpBackend.requests.length).toBe(before + 1);
    expect(httpBackend.requests.at(-1)?.headers['x-request-id']).toBeTruthy();
  });

  it('an unknown Host on the handed-off HTTP listener gets 404 NR, not the passthrough chain', async () => {
    dialled = { host: '10.96.0.7', port: 9080 };
    expect(await httpExchange(outboundPort(), 'unknown.example:9080')).toMatch(/^HTTP\/1\.1 404 /);
  });

  it.each([
    { name: 'chain of the original port', dst: { host: '10.0.0.5', port: 9080 }, expected: 'app:ping' },
    {
      name: 'other port: default chain',
      dst: { host: '10.0.0.5', port: 7070 },
      expected: 'passthrough:ping',
    },
  ])('virtualInbound (original_dst filter, no hand-off) picks the $name', async ({ dst, expected }) => {
    dialled = dst;
    expect(await tcpExchange(inboundPort(), 'ping')).toBe(expected);
  });
});
