/**
 * Hot reload under load: 20 xDS config changes (route weights, a cluster
 * added, routed to, routed away from and removed, endpoints changed on every
 * step) while 50 requests are always in flight over keep-alive
 * connections; then a listener change (a new filter chain with other
 * routes) with those connections open. The client must see no failure.
 */
import { createLogger } from '@weft/telemetry';
import { ROUTE_TYPE_URL } from '@weft/xds';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Body } from '../src/config/problems.ts';
import { startProxy, type WeftProxy } from '../src/proxy.ts';
import {
  clusterLoadAssignment,
  edsCluster,
  filterChain,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  virtualHost,
  weightedRoute,
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
import { freePort } from './support/processes.ts';

const IN_FLIGHT = 50;
const CHANGES = 20;

/** Step `i` of the config sequence; every step changes EDS and the route's `x-step` header. */
function step(
  i: number,
  backends: Record<'a' | 'b' | 'c', Backend>,
  port: number,
  chain: 'one' | 'two',
): ConfigSet {
  const phase = i % 5;
  // c exists in phases 1-3 and gets traffic in phase 2 only: added before used, unused before removed.
  const withC = phase >= 1 && phase <= 3;
  const route: Body =
    phase === 2
      ? routeTo('c')
      : weightedRoute([
          ['a', 10 + ((i * 20) % 80)],
          ['b', 90 - ((i * 20) % 80)],
        ]);
  const stepHeader = {
    header: { key: 'x-step', value: String(i) },
    appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD',
  };
  const chainHeader = {
    header: { key: 'x-chain', value: chain },
    appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD',
  };
  return {
    clusters: [edsCluster('a'), edsCluster('b'), ...(withC ? [edsCluster('c')] : [])],
    endpoints: [
      clusterLoadAssignment('a', [{ port: backends.a.port }]),
      clusterLoadAssignment(
        'b',
        i % 2 === 0 ? [{ port: backends.b.port }] : [{ port: backends.b.port }, { port: backends.c.port }],
      ),
      ...(withC ? [clusterLoadAssignment('c', [{ port: backends.c.port }])] : []),
    ],
    listeners: [listener('http', port, [filterChain(httpConnectionManager(`routes-${chain}`))])],
    routes: [
      routeConfiguration(`routes-${chain}`, [virtualHost('all', ['*'], [route])], {
        responseHeadersToAdd: [stepHeader, chainHeader],
      }),
    ],
  };
}

interface Load {
  readonly ok: number;
  readonly failures: string[];
  /** `x-step`/`x-chain` of the latest answer. */
  readonly last: { step: string; chain: string };
  readonly chains: Set<string>;
  stop(): Promise<void>;
}

/** Keeps `IN_FLIGHT` requests in flight until stopped. */
function startLoad(pool: Pool): Load {
  let running = true;
  const load = {
    ok: 0,
    failures: [] as string[],
    last: { step: '', chain: '' },
    chains: new Set<string>(),
    stop: async () => {},
  };
  const worker = async (): Promise<void> => {
    while (running) {
      try {
        const response = await pool.request({ method: 'GET', path: '/load', headers: { host: 'svc' } });
        await response.body.text();
        if (response.statusCode !== 200) {
          load.failures.push(`status ${response.statusCode} ${String(response.headers['x-step'])}`);
          continue;
        }
        load.ok++;
        load.last = { step: String(response.headers['x-step']), chain: String(response.headers['x-chain']) };
        load.chains.add(load.last.chain);
      } catch (error) {
        load.failures.push(String(error));
      }
    }
  };
  const workers = Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  load.stop = async () => {
    running = false;
    await workers;
  };
  return load;
}

describe('hot reload under load', () => {
  let plane: ControlPlane;
  let proxy: WeftProxy;
  let backends: Record<'a' | 'b' | 'c', Backend>;
  let port: number;

  beforeAll(async () => {
    backends = { a: await startBackend('a'), b: await startBackend('b'), c: await startBackend('c') };
    port = await freePort();
    plane = await startControlPlane();
    plane.push(step(0, backends, port, 'one'));
    proxy = await startProxy({
      discoveryAddress: plane.address,
      node: { id: NODE_ID },
      admin: null,
      drainTimeMs: 1000,
      logger: createLogger({ name: 'weft-proxy', level: 'error' }),
    });
    await waitUntil(() => proxy.isReady() && proxy.listenerAddress('http') !== undefined, 'proxy ready');
  });

  afterAll(async () => {
    await proxy?.close();
    await plane?.stop();
    await Promise.all(Object.values(backends ?? {}).map((b) => b.close()));
  });

  it(`applies ${CHANGES} config changes and a listener change with ${IN_FLIGHT} requests in flight and no failure`, async () => {
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: IN_FLIGHT, keepAliveTimeout: 30_000 });
    const load = startLoad(pool);
    try {
      await waitUntil(() => load.ok > 100, 'load flowing', 10_000);
      for (let i = 1; i <= CHANGES; i++) {
        const version = proxy.config.versions.get(ROUTE_TYPE_URL);
        plane.push(step(i, backends, port, 'one'));
        await waitUntil(
          () => proxy.config.versions.get(ROUTE_TYPE_URL) !== version && load.last.step === String(i),
          `step ${i} to serve`,
          10_000,
        );
      }
      const servedBeforeListenerChange = load.ok;
      // A new filter chain (other RDS name): keep-alive connections on the old chain drain, none fail.
      plane.push(step(CHANGES + 1, backends, port, 'two'));
      await waitUntil(() => load.last.chain === 'two', 'the new filter chain to serve', 10_000);
      // Run past the drain period (1 s): old-chain connections are gone by then.
      const switched = { ok: load.ok, at: Date.now() };
      await waitUntil(
        () => load.ok > switched.ok + 1000 && Date.now() > switched.at + 1500,
        'traffic on the new chain past the drain period',
        20_000,
      );
      expect(servedBeforeListenerChange).toBeGreaterThan(CHANGES * 10);
    } finally {
      await load.stop();
      await pool.close();
    }
    expect(load.failures).toEqual([]);
    expect([...load.chains].sort()).toEqual(['one', 'two']);
    // Every backend took traffic at some step (c alone in phase 2, and as b's second endpoint).
    for (const backend of Object.values(backends)) expect(backend.requests.length).toBeGreaterThan(0);
  }, 90_000);
});
