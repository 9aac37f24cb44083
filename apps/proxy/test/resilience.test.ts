/**
 * End to end: circuit breaking, connect failures and retries across hosts,
 * mirroring, CORS, WebSocket upgrades, and a listener update while a
 * request is in flight.
 */
import http from 'node:http';
import net from 'node:net';
import { createLogger } from '@weft/telemetry';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Body } from '../src/config/problems.ts';
import { startProxy, type WeftProxy } from '../src/proxy.ts';
import {
  clusterLoadAssignment,
  duration,
  edsCluster,
  filterChain,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  virtualHost,
} from '../src/testing/builders.ts';
import {
  type Backend,
  type ConfigSet,
  type ControlPlane,
  NODE_ID,
  startBackend,
  startControlPlane,
  waitUntil,
} from './support/harness.ts';

let plane: ControlPlane;
let proxy: WeftProxy;
let web: Backend;
let shadow: Backend;
let deadPort: number;
let ws: http.Server;
let wsPort: number;
const agent = new Agent({ keepAliveTimeout: 1000 });
const flags: string[] = [];

function config(hcmExtra: Body = {}): ConfigSet {
  return {
    clusters: [
      edsCluster('web', { circuitBreakers: { thresholds: [{ maxRequests: { value: 1 } }] } }),
      edsCluster('tight', {
        circuitBreakers: { thresholds: [{ maxConnections: { value: 1 }, maxPendingRequests: { value: 1 } }] },
      }),
      edsCluster('half-dead'),
      edsCluster('dead'),
      edsCluster('shadow'),
      edsCluster('ws'),
    ],
    endpoints: [
      clusterLoadAssignment('web', [{ port: web.port }]),
      clusterLoadAssignment('tight', [{ port: web.port }]),
      clusterLoadAssignment('half-dead', [{ port: deadPort }, { port: web.port }]),
      clusterLoadAssignment('dead', [{ port: deadPort }]),
      clusterLoadAssignment('shadow', [{ port: shadow.port }]),
      clusterLoadAssignment('ws', [{ port: wsPort }]),
    ],
    listeners: [
      listener('http', 0, [
        filterChain(
          httpConnectionManager('80', {
            upgradeConfigs: [{ upgradeType: 'websocket' }],
            useRemoteAddress: { value: true },
            ...hcmExtra,
          }),
        ),
      ]),
    ],
    routes: [
      routeConfiguration('80', [
        virtualHost('web', ['web.local'], [routeTo('web')]),
        virtualHost('dead', ['dead.local'], [routeTo('dead')]),
        virtualHost('tight', ['tight.local'], [routeTo('tight')]),
        virtualHost(
          'retry',
          ['retry.local'],
          [
            routeTo(
              'half-dead',
              { prefix: '/' },
              {
                retryPolicy: {
                  retryOn: 'connect-failure',
                  numRetries: { value: 1 },
                  retryBackOff: { baseInterval: duration(1) },
                },
              },
            ),
          ],
        ),
        virtualHost(
          'mirror',
          ['mirror.local'],
          [routeTo('web', { prefix: '/' }, { requestMirrorPolicies: [{ cluster: 'shadow' }] })],
        ),
        virtualHost(
          'cors',
          ['cors.local'],
          [
            routeTo(
              'web',
              { prefix: '/' },
              {},
              {
                typedPerFilterConfig: {
                  'envoy.filters.http.cors': {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
                    allowOriginStringMatch: [{ exact: 'https://app.example' }],
                    allowMethods: 'GET,POST',
                    allowHeaders: 'content-type',
                    maxAge: '600',
                  },
                },
              },
            ),
          ],
        ),
        virtualHost('ws', ['ws.local'], [routeTo('ws')]),
      ]),
    ],
  };
}

async function get(
  host: string,
  path = '/',
  headers: Record<string, string> = {},
  method: 'GET' | 'OPTIONS' = 'GET',
) {
  const port = proxy.listenerAddress('http')!.port;
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { host, ...headers },
    dispatcher: agent,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

beforeAll(async () => {
  [web, shadow] = await Promise.all([startBackend('web'), startBackend('shadow')]);
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  ws = http.createServer((_req, res) => res.end('not a websocket'));
  ws.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r));
  wsPort = (ws.address() as net.AddressInfo).port;
  plane = await startControlPlane();
  plane.push(config());
  proxy = await startProxy({
    discoveryAddress: plane.address,
    node: { id: NODE_ID },
    admin: null,
    drainTimeMs: 2000,
    logger: createLogger({ name: 'weft-proxy', level: 'error' }),
    accessLog: (r) => flags.push(r.response_flags),
  });
  await waitUntil(
    () => proxy.isReady() && proxy.config.routes.has('80') && proxy.listenerAddress('http') !== undefined,
    'proxy ready',
  );
});

afterAll(async () => {
  await proxy?.close();
  await plane?.stop();
  await Promise.all([web?.close(), shadow?.close()]);
  ws?.closeAllConnections();
  ws?.close();
  await agent.close();
});

describe('circuit breaking and failures', () => {
  it('answers 503 UO with x-envoy-overloaded beyond max_requests', async () => {
    web.delayMs = 200;
    const [first, second] = await Promise.all([
      get('web.local'),
      new Promise((r) => setTimeout(r, 50)).then(() => get('web.local')),
    ]);
    web.delayMs = 0;
    // Arrival order is up to the network; exactly one of the two is shed.
    const shed = [first, second].filter((r) => r.status === 503);
    expect([first.status, second.status].sort()).toEqual([200, 503]);
    expect(shed[0]?.headers['x-envoy-overloaded']).toBe('true');
    expect(flags).toContain('UO');
  });

  it('answers 503 UO beyond max_pending_requests while the one connection is busy', async () => {
    web.delayMs = 300;
    const later = (ms: number) => new Promise((r) => setTimeout(r, ms)).then(() => get('tight.local'));
    const results = await Promise.all([get('tight.local'), later(50), later(100)]);
    web.delayMs = 0;
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 503]);
    expect(results.find((r) => r.status === 503)?.headers['x-envoy-overloaded']).toBe('true');
  });

  it('answers 503 UF when the only host refuses connections', async () => {
    const res = await get('dead.local');
    expect(res.status).toBe(503);
    expect(res.text).toContain('connection failure');
    expect(flags.at(-1)).toBe('UF');
  });

  it('retries a connect failure on another host', async () => {
    for (let i = 0; i < 4; i++) expect((await get('retry.local')).status).toBe(200);
  });
});

describe('mirroring and CORS', () => {
  it('appends the peer address to x-forwarded-for (useRemoteAddress)', async () => {
    await get('web.local', '/xff', { 'x-forwarded-for': '203.0.113.7' });
    expect(web.requests.at(-1)?.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });

  it('mirrors requests to the shadow cluster with a -shadow host', async () => {
    await get('mirror.local', '/m');
    await waitUntil(() => shadow.requests.length > 0, 'mirrored request');
    expect(shadow.requests[0]).toMatchObject({ url: '/m', headers: { host: 'mirror.local-shadow' } });
  });

  it('answers a preflight from an allowed origin and tags actual responses', async () => {
    const preflight = await get(
      'cors.local',
      '/',
      { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    expect(preflight.status).toBe(200);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'GET,POST',
      'access-control-max-age': '600',
    });
    const actual = await get('cors.local', '/', { origin: 'https://app.example' });
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await get('cors.local', '/', { origin: 'https://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('WebSocket', () => {
  it('splices an upgraded connection to the upstream', async () => {
    const port = proxy.listenerAddress('http')!.port;
    const received = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(
          'GET /chat HTTP/1.1\r\nHost: ws.local\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\r\n\r\n') && !text.includes('echo-me')) socket.write('echo-me');
        if (text.includes('echo-me')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    expect(received.startsWith('HTTP/1.1 101')).toBe(true);
    expect(received.endsWith('echo-me')).toBe(true);
  });
});

describe('listener updates', () => {
  it('lets an in-flight request finish on the old chain while new connections use the new one', async () => {
    web.delayMs = 300;
    const inFlight = get('web.local', '/slow');
    await waitUntil(() => web.requests.some((r) => r.url === '/slow'), 'slow request upstream');
    plane.push(config({ serverName: 'weft-v2' }));
    await waitUntil(() => {
      const chain = proxy.config.listeners.get('http')?.filterChains[0]?.network;
      return chain?.kind === 'http' && chain.serverName === 'weft-v2';
    }, 'listener update');
    web.delayMs = 0;
    const port = proxy.listenerAddress('http')!.port;
    const fresh = await request(`http://127.0.0.1:${port}/`, { headers: { host: 'web.local' }, reset: true });
    await fresh.body.dump();
    expect(fresh.headers.server).toBe('weft-v2');
    const old = await inFlight;
    expect(old.status).toBe(200);
    expect(old.headers.server).toBe('weft');
  });
});
