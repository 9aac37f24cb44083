/**
 * End to end: an in-process ADS server pushes hand-built Envoy resources to
 * an in-process weft-proxy; real backends and a real client (undici).
 */
import { createLogger } from '@weft/telemetry';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Body } from '../src/config/problems.ts';
import { startProxy, type WeftProxy } from '../src/proxy.ts';
import {
  clusterLoadAssignment,
  duration,
  edsCluster,
  fault,
  filterChain,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  virtualHost,
  weightedRoute,
} from '../src/testing/builders.ts';
import { samples } from '../src/testing/prometheus-samples.ts';
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
let a: Backend;
let b: Backend;
let slow: Backend;
const agent = new Agent({ keepAliveTimeout: 1000 });
const accessLog: Array<{ response_flags: string; response_code: number; upstream_cluster: string }> = [];

function routes(extraRoutes: Body[] = []): Body {
  return routeConfiguration('8080', [
    virtualHost('a', ['a.local', 'a.local:8080'], [routeTo('a')]),
    virtualHost(
      'split',
      ['split.local'],
      [
        weightedRoute([
          ['a', 80],
          ['b', 20],
        ]),
      ],
    ),
    virtualHost('lb', ['lb.local'], [routeTo('ab')]),
    virtualHost('empty', ['empty.local'], [routeTo('empty')]),
    virtualHost('missing', ['missing.local'], [routeTo('no-such-cluster')]),
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
              numRetries: { value: 2 },
              retryBackOff: { baseInterval: duration(1) },
            },
          },
        ),
      ],
    ),
    virtualHost('noretry', ['noretry.local'], [routeTo('a')]),
    virtualHost('timeout', ['timeout.local'], [routeTo('slow', { prefix: '/' }, { timeout: duration(100) })]),
    virtualHost(
      'pertry',
      ['pertry.local'],
      [
        routeTo(
          'slow',
          { prefix: '/' },
          {
            retryPolicy: {
              retryOn: '5xx',
              numRetries: { value: 1 },
              perTryTimeout: duration(100),
              retryBackOff: { baseInterval: duration(1) },
            },
          },
        ),
      ],
    ),
    virtualHost(
      'idle',
      ['idle.local'],
      [routeTo('slow', { prefix: '/' }, { timeout: duration(0), idleTimeout: duration(100) })],
    ),
    virtualHost(
      'hash',
      ['hash.local'],
      [routeTo('ab-hash', { prefix: '/' }, { hashPolicy: [{ header: { headerName: 'x-user' } }] })],
    ),
    virtualHost(
      'faults',
      ['fault.local'],
      [
        routeTo(
          'a',
          { prefix: '/abort' },
          {},
          { typedPerFilterConfig: { 'envoy.filters.http.fault': fault({ abortStatus: 418 }) } },
        ),
        routeTo(
          'a',
          { prefix: '/delay' },
          {},
          { typedPerFilterConfig: { 'envoy.filters.http.fault': fault({ delayMs: 80 }) } },
        ),
      ],
    ),
    virtualHost(
      'headers',
      ['headers.local'],
      [
        routeTo(
          'a',
          { prefix: '/v1/' },
          { prefixRewrite: '/internal/', hostRewriteLiteral: 'backend.internal' },
          {
            requestHeadersToAdd: [{ header: { key: 'x-added', value: 'yes' } }],
            requestHeadersToRemove: ['x-drop'],
            responseHeadersToAdd: [
              { header: { key: 'x-route', value: 'headers' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
            ],
            responseHeadersToRemove: ['x-backend'],
          },
        ),
      ],
    ),
    virtualHost('slow', ['slow.local'], [routeTo('slow')]),
    virtualHost(
      'direct',
      ['direct.local'],
      [
        { match: { path: '/moved' }, redirect: { hostRedirect: 'new.local', responseCode: 'FOUND' } },
        { match: { prefix: '/' }, directResponse: { status: 203, body: { inlineString: 'hello' } } },
      ],
    ),
    virtualHost(
      'new',
      ['new.local'],
      extraRoutes.length > 0 ? extraRoutes : [routeTo('b', { prefix: '/never' })],
    ),
  ]);
}

function config(extraRoutes: Body[] = [], routeBody: Body = routes(extraRoutes)): ConfigSet {
  return {
    clusters: [
      ...['a', 'b', 'ab', 'slow', 'empty'].map((n) => edsCluster(n)),
      edsCluster('ab-hash', { lbPolicy: 'RING_HASH' }),
    ],
    endpoints: [
      clusterLoadAssignment('a', [{ port: a.port }]),
      clusterLoadAssignment('b', [{ port: b.port }]),
      clusterLoadAssignment('ab', [{ port: a.port }, { port: b.port }]),
      clusterLoadAssignment('slow', [{ port: slow.port }]),
      clusterLoadAssignment('empty', []),
      clusterLoadAssignment('ab-hash', [{ port: a.port }, { port: b.port }]),
    ],
    listeners: [listener('http', 0, [filterChain(httpConnectionManager('8080'))])],
    routes: [routeBody],
  };
}

async function get(host: string, path = '/', headers: Record<string, string> = {}) {
  const addr = proxy.listenerAddress('http')!;
  const res = await request(`http://127.0.0.1:${addr.port}${path}`, {
    headers: { host, ...headers },
    dispatcher: agent,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as { backend: string; url: string; headers: Record<string, string> },
  };
}

beforeAll(async () => {
  [a, b, slow] = await Promise.all([startBackend('a'), startBackend('b'), startBackend('slow')]);
  plane = await startControlPlane();
  plane.push(config());
  proxy = await startProxy({
    discoveryAddress: plane.address,
    node: { id: NODE_ID },
    admin: { host: '127.0.0.1', port: 0 },
    drainTimeMs: 200,
    logger: createLogger({ name: 'weft-proxy', level: 'error' }),
    accessLog: (record) => accessLog.push(record),
  });
  await waitUntil(
    () => proxy.isReady() && proxy.listenerAddress('http') !== undefined && proxy.config.routes.has('8080'),
    'proxy ready',
  );
});

afterAll(async () => {
  await proxy?.close();
  await plane?.stop();
  await Promise.all([a, b, slow].map((x) => x?.close()));
  await agent.close();
});

beforeEach(() => {
  for (const x of [a, b, slow]) {
    x.requests.length = 0;
    x.statuses = [];
    x.delayMs = 0;
    x.delays = [];
  }
});

describe('routing', () => {
  it('routes by host to the right backend and marks the response', async () => {
    const res = await get('a.local', '/hello?x=1');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ backend: 'a', url: '/hello?x=1' });
    expect(res.headers.server).toBe('weft');
    expect(Number(res.headers['x-envoy-upstream-service-time'])).toBeGreaterThanOrEqual(0);
    expect(a.requests[0]?.headers['x-forwarded-proto']).toBe('http');
    expect(a.requests[0]?.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 with flag NR for an unknown host', async () => {
    const res = await get('nobody.local');
    expect(res.status).toBe(404);
    expect(accessLog.at(-1)).toMatchObject({ response_code: 404, response_flags: 'NR' });
  });

  it('answers 503 UH when the cluster has no endpoints', async () => {
    const res = await get('empty.local');
    expect(res.status).toBe(503);
    expect(res.text).toBe('no healthy upstream');
    expect(accessLog.at(-1)).toMatchObject({ response_flags: 'UH', upstream_cluster: 'empty' });
  });

  it('answers 503 NC when the route names an unknown cluster', async () => {
    expect((await get('missing.local')).status).toBe(503);
    expect(accessLog.at(-1)?.response_flags).toBe('NC');
  });

  it('round-robins across the endpoints of a cluster', async () => {
    for (let i = 0; i < 10; i++) await get('lb.local');
    expect([a.requests.length, b.requests.length]).toEqual([5, 5]);
  });

  it('splits traffic by cluster weight', async () => {
    for (let i = 0; i < 200; i++) await get('split.local');
    expect(a.requests.length + b.requests.length).toBe(200);
    expect(b.requests.length).toBeGreaterThan(15);
    expect(b.requests.length).toBeLessThan(70);
  });

  it('answers redirects and direct responses locally', async () => {
    const moved = await get('direct.local', '/moved?q=1');
    expect(moved.status).toBe(302);
    expect(moved.headers.location).toBe('http://new.local/moved?q=1');
    const direct = await get('direct.local', '/anything');
    expect([direct.status, direct.text]).toEqual([203, 'hello']);
  });
});

describe('header manipulation and rewrites', () => {
  it('rewrites prefix and host, adds and removes request and response headers', async () => {
    const res = await get('headers.local', '/v1/items', { 'x-drop': 'me', 'x-keep': 'me' });
    expect(res.status).toBe(200);
    const seen = a.requests[0]!;
    expect(seen.url).toBe('/internal/items');
    expect(seen.headers.host).toBe('backend.internal');
    expect(seen.headers['x-added']).toBe('yes');
    expect(seen.headers['x-drop']).toBeUndefined();
    expect(seen.headers['x-keep']).toBe('me');
    expect(res.headers['x-route']).toBe('headers');
    expect(res.headers['x-backend']).toBeUndefined();
  });
});

describe('retries and timeouts', () => {
  it('retries a 5xx and counts attempts', async () => {
    a.statuses = [503];
    const res = await get('retry.local');
    expect(res.status).toBe(200);
    expect(a.requests.map((r) => r.headers['x-envoy-attempt-count'])).toEqual(['1', '2']);
  });

  it('gives up after num_retries with URX and forwards the last response', async () => {
    a.statuses = [503, 503, 503];
    const res = await get('retry.local');
    expect(res.status).toBe(503);
    expect(a.requests).toHaveLength(3);
    expect(accessLog.at(-1)?.response_flags).toBe('URX');
  });

  it('does not retry without a retry policy', async () => {
    a.statuses = [503];
    expect((await get('noretry.local')).status).toBe(503);
    expect(a.requests).toHaveLength(1);
  });

  it('times out with 504 UT', async () => {
    slow.delayMs = 1000;
    const started = Date.now();
    const res = await get('timeout.local');
    expect(res.status).toBe(504);
    expect(res.text).toBe('upstream request timeout');
    expect(Date.now() - started).toBeLessThan(900);
    expect(accessLog.at(-1)?.response_flags).toBe('UT');
  });
});

describe('more timeouts and hashing', () => {
  it('retries after a per-try timeout', async () => {
    slow.delays = [1000];
    const started = Date.now();
    const res = await get('pertry.local');
    expect(res.status).toBe(200);
    expect(slow.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('answers 408 SI when the stream stays idle', async () => {
    slow.delayMs = 1000;
    const res = await get('idle.local');
    expect(res.status).toBe(408);
    expect(accessLog.at(-1)?.response_flags).toBe('SI');
  });

  it('sends one user to one host with ring hash on a header', async () => {
    const hostsFor = async (user: string) => {
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) seen.add((await get('hash.local', '/', { 'x-user': user })).json().backend);
      return seen;
    };
    const all = new Set<string>();
    for (let u = 0; u < 12; u++) {
      const seen = await hostsFor(`user-${u}`);
      expect(seen.size).toBe(1);
      for (const h of seen) all.add(h);
    }
    expect([...all].sort()).toEqual(['a', 'b']);
  });
});

describe('delta ADS', () => {
  it('serves the same config over the incremental protocol', async () => {
    const delta = await startProxy({
      discoveryAddress: plane.address,
      adsMode: 'delta',
      node: { id: NODE_ID },
      admin: null,
      logger: createLogger({ name: 'weft-proxy', level: 'error' }),
    });
    try {
      await waitUntil(
        () => delta.isReady() && delta.listenerAddress('http') !== undefined,
        'delta proxy ready',
      );
      const res = await request(`http://127.0.0.1:${delta.listenerAddress('http')!.port}/`, {
        headers: { host: 'a.local' },
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await delta.close();
    }
  });
});

describe('fault injection', () => {
  it('aborts with the configured status', async () => {
    const res = await get('fault.local', '/abort');
    expect(res.status).toBe(418);
    expect(a.requests).toHaveLength(0);
    expect(accessLog.at(-1)?.response_flags).toBe('FI');
  });

  it('delays before forwarding', async () => {
    const started = Date.now();
    const res = await get('fault.local', '/delay');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(accessLog.at(-1)?.response_flags).toBe('DI');
  });
});

describe('config updates', () => {
  it('applies a pushed route without failing in-flight requests', async () => {
    slow.delayMs = 300;
    const inFlight = get('slow.local');
    await waitUntil(() => slow.requests.length === 1, 'slow request reached the backend');
    plane.push(config([routeTo('b', { prefix: '/' })]));
    await waitUntil(
      () => proxy.config.routes.get('8080')?.exactDomains.get('new.local')?.routes[0]?.match.value === '/',
      'new route applied',
    );
    expect((await get('new.local', '/fresh')).json().backend).toBe('b');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.json().backend).toBe('slow');
  });

  it('NACKs an invalid route configuration with field paths and keeps serving the last good one', async () => {
    const bad = routeConfiguration('8080', [
      virtualHost('x', ['a.local'], [routeTo('a', { safeRegex: { regex: '(' } })]),
    ]);
    plane.push(config([], bad));
    await waitUntil(() => plane.nacks.length > 0, 'a NACK');
    expect(plane.nacks[0]?.errorDetail.message).toContain(
      '8080: virtualHosts[0].routes[0].match.safeRegex.regex: invalid regex',
    );
    expect((await get('a.local')).json().backend).toBe('a');
    plane.push(config());
  });
});

describe('admin', () => {
  it('serves ready, clusters, stats and config_dump', async () => {
    const base = `http://127.0.0.1:${proxy.adminAddress!.port}`;
    const ready = await request(`${base}/ready`);
    expect([ready.statusCode, await ready.body.text()]).toEqual([200, 'LIVE\n']);
    const clusters = await (await request(`${base}/clusters`)).body.text();
    expect(clusters).toContain(`a::127.0.0.1:${a.port}::health_flags::healthy`);
    const stats = await (await request(`${base}/stats`)).body.text();
    expect(stats).toMatch(/cluster\.a\.upstream_rq_total: [1-9]/);
    const dump = (await (await request(`${base}/config_dump`)).body.json()) as {
      configs: Array<{ resources: unknown[] }>;
    };
    expect(dump.configs.map((c) => c.resources.length)).toEqual([6, 6, 1, 1]);
    const prom = await (await request(`${base}/stats/prometheus`)).body.text();
    const [uh] = samples(prom, 'weft_proxy_requests_total', { cluster: 'empty', response_flags: 'UH' });
    expect(uh).toMatch(/response_code="503".* [1-9]\d*$/);
  });
});
