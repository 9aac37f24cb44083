/**
 * HTTP routes to ORIGINAL_DST clusters (Istio's PassthroughCluster and
 * InboundPassthroughCluster): the upstream is the address the client
 * dialled, as the capture listener recovered it, or with
 * `originalDstLbConfig.useHttpHeader` the `x-envoy-original-dst-host`
 * header. The proxy's original-destination reader is replaced by one that
 * returns what the test says the client dialled (SO_ORIGINAL_DST under
 * iptables REDIRECT; the real call is covered by capture/netns.test.ts).
 */
import net from 'node:net';
import { createLogger } from '@weft/telemetry';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, type Resource, resourceFromBody } from '@weft/xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OriginalDestination, SocketAddress } from '../src/capture/original-dst.ts';
import type { Body } from '../src/config/problems.ts';
import { startProxy, type WeftProxy } from '../src/proxy.ts';
import {
  filterChain,
  httpConnectionManager,
  routeConfiguration,
  routeTo,
  socketAddress,
  virtualHost,
} from '../src/testing/builders.ts';
import { type Backend, NODE_ID, startBackend, waitUntil } from './support/harness.ts';

const ORIGINAL_DST_FILTER = {
  name: 'envoy.filters.listener.original_dst',
  typedConfig: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  },
};

function originalDstCluster(name: string, extra: Body = {}): Body {
  return {
    name,
    type: 'ORIGINAL_DST',
    lbPolicy: 'CLUSTER_PROVIDED',
    connectTimeout: { seconds: '1' },
    ...extra,
  };
}

/** Requests with `x-route: header` go to the header-driven cluster, `x-route: port` to the port override one. */
function passthroughListener(): Body {
  return {
    name: 'passthrough',
    address: socketAddress('127.0.0.1', 15001),
    listenerFilters: [ORIGINAL_DST_FILTER],
    filterChains: [
      filterChain(
        httpConnectionManager(
          routeConfiguration('passthrough', [
            virtualHost(
              'any',
              ['*'],
              [
                routeTo('HeaderPassthrough', {
                  prefix: '/',
                  headers: [{ name: 'x-route', exactMatch: 'header' }],
                }),
                routeTo('PortOverride', { prefix: '/', headers: [{ name: 'x-route', exactMatch: 'port' }] }),
                routeTo('PassthroughCluster'),
              ],
            ),
          ]),
        ),
      ),
    ],
  };
}

interface Exchange {
  readonly status: number;
  readonly backend: string | undefined;
}

/** Sends `requests` HTTP/1.1 requests on one keep-alive connection, then reads every response. */
function exchange(port: number, requests: ReadonlyArray<Record<string, string>>): Promise<Exchange[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      requests.forEach((headers, i) => {
        const last = i === requests.length - 1;
        const lines = Object.entries({
          host: 'anything.example',
          ...headers,
          ...(last ? { connection: 'close' } : {}),
        })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        socket.write(`GET /x HTTP/1.1\r\n${lines}\r\n`);
      });
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('exchange timed out')));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      const out: Exchange[] = [];
      for (const match of text.matchAll(/HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/g)) {
        const head = match[2]!.toLowerCase();
        out.push({
          status: Number(match[1]),
          backend: /x-backend: (\S+)/.exec(head)?.[1],
        });
      }
      resolve(out);
    });
  });
}

describe('HTTP to ORIGINAL_DST clusters', () => {
  let proxy: WeftProxy;
  let a: Backend;
  let b: Backend;
  /** What the stand-in for SO_ORIGINAL_DST returns for the next accepted connection. */
  let dialled: SocketAddress | undefined;

  beforeAll(async () => {
    [a, b] = await Promise.all([startBackend('a'), startBackend('b')]);
    const of = (typeUrl: typeof CLUSTER_TYPE_URL | typeof LISTENER_TYPE_URL, bodies: Body[]): Resource[] =>
      bodies.map((body) => resourceFromBody(typeUrl, body as Record<string, unknown>));
    proxy = await startProxy({
      node: { id: NODE_ID },
      admin: null,
      logger: createLogger({ name: 'weft-proxy', level: 'error' }),
      staticResources: [
        ...of(CLUSTER_TYPE_URL, [
          originalDstCluster('PassthroughCluster'),
          originalDstCluster('HeaderPassthrough', { originalDstLbConfig: { useHttpHeader: true } }),
          originalDstCluster('PortOverride', {
            originalDstLbConfig: { upstreamPortOverride: { value: b.port } },
          }),
        ]),
        ...of(LISTENER_TYPE_URL, [passthroughListener()]),
      ],
      listenerAddresses: new Map([['passthrough', { host: '127.0.0.1', port: 0 }]]),
      originalDestination: (socket): OriginalDestination => {
        const answer = dialled
          ? { ...dialled, source: 'conntrack' as const }
          : { host: socket.localAddress ?? '', port: socket.localPort ?? 0, source: 'local' as const };
        dialled = undefined;
        return answer;
      },
    });
    await waitUntil(() => proxy.listenerAddress('passthrough') !== undefined, 'passthrough listener bound');
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  const port = (): number => proxy.listenerAddress('passthrough')!.port;

  it.each([
    { name: 'a', backend: () => a },
    { name: 'b', backend: () => b },
  ])('sends each request of a connection to the address the client dialled ($name)', async ({ backend }) => {
    const target = backend();
    const before = target.requests.length;
    dialled = { host: '127.0.0.1', port: target.port };
    const answers = await exchange(port(), [{}, {}]);
    expect(answers.map((r) => [r.status, r.backend])).toEqual([
      [200, target.name],
      [200, target.name],
    ]);
    expect(target.requests.length).toBe(before + 2);
    expect(target.requests.at(-1)?.headers['x-envoy-attempt-count']).toBe('1');
  });

  it('answers 503 (no healthy upstream) for a connection that was not redirected', async () => {
    dialled = undefined;
    const [answer] = await exchange(port(), [{}]);
    expect(answer?.status).toBe(503);
    expect(answer?.backend).toBeUndefined();
  });

  it.each([
    { name: 'IPv4 literal', header: () => `127.0.0.1:${b.port}`, status: 200, backend: 'b' },
    { name: 'not an IP literal', header: () => `localhost:${b.port}`, status: 503, backend: undefined },
    { name: 'port out of range', header: () => '127.0.0.1:70000', status: 503, backend: undefined },
    { name: 'missing port', header: () => '127.0.0.1', status: 503, backend: undefined },
  ])('useHttpHeader: x-envoy-original-dst-host with $name', async ({ header, status, backend }) => {
    dialled = { host: '127.0.0.1', port: a.port };
    const [answer] = await exchange(port(), [{ 'x-route': 'header', 'x-envoy-original-dst-host': header() }]);
    expect([answer?.status, answer?.backend]).toEqual([status, backend]);
  });

  it('useHttpHeader without the header falls back to the dialled address', async () => {
    dialled = { host: '127.0.0.1', port: a.port };
    const [answer] = await exchange(port(), [{ 'x-route': 'header' }]);
    expect([answer?.status, answer?.backend]).toEqual([200, 'a']);
  });

  it('the header is ignored unless the cluster opts in', async () => {
    dialled = { host: '127.0.0.1', port: a.port };
    const [answer] = await exchange(port(), [{ 'x-envoy-original-dst-host': `127.0.0.1:${b.port}` }]);
    expect([answer?.status, answer?.backend]).toEqual([200, 'a']);
  });

  it('upstreamPortOverride replaces the dialled port', async () => {
    dialled = { host: '127.0.0.1', port: a.port };
    const [answer] = await exchange(port(), [{ 'x-route': 'port' }]);
    expect([answer?.status, answer?.backend]).toEqual([200, 'b']);
  });
});
