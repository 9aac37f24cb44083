/**
 * End to end with the real control plane: the built weft-discovery binary
 * watches a dir of Istio YAML (ServiceEntry, WorkloadEntries on 127.0.0.2
 * and 127.0.0.3, DestinationRule subsets, a VirtualService), the built
 * weft-proxy binary connects to it over ADS and binds the outbound
 * per-port listener `0.0.0.0_9080` on loopback (local mode), and an undici
 * client sends HTTP with the service's Host through it. Every assertion is
 * about what the client observed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, startBackend } from './support/harness.ts';
import {
  createMeshConfigDir,
  eventually,
  istio,
  type LocalMesh,
  type MeshConfigDir,
  sendThrough,
  startLocalMesh,
} from './support/processes.ts';

const HOST = 'reviews.default.svc.cluster.local';
const PORT = 9080;
const LISTENER = `0.0.0.0_${PORT}`;

function serviceEntry() {
  return istio('ServiceEntry', 'reviews', {
    hosts: [HOST],
    location: 'MESH_INTERNAL',
    resolution: 'STATIC',
    ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }],
    workloadSelector: { labels: { app: 'reviews' } },
  });
}

function workloadEntry(version: string, backend: Backend, address: string) {
  return istio('WorkloadEntry', `reviews-${version}`, {
    address,
    ports: { http: backend.port },
    // Plain node:http backends: no sidecar in front, so no Istio mTLS (auto mTLS would pick it otherwise).
    labels: { app: 'reviews', version, 'security.istio.io/tlsMode': 'disabled' },
  });
}

function subsets() {
  return istio('DestinationRule', 'reviews', {
    host: HOST,
    subsets: ['v1', 'v2'].map((v) => ({ name: v, labels: { version: v } })),
  });
}

const to = (subset: string, weight?: number) => ({
  destination: { host: HOST, subset, port: { number: PORT } },
  ...(weight === undefined ? {} : { weight }),
});

/** The routes under test; the catch-all route splits v1/v2 by `weights`. */
function virtualService(weights: { v1: number; v2: number }) {
  return istio('VirtualService', 'reviews', {
    hosts: [HOST],
    http: [
      {
        match: [{ headers: { 'x-fault': { exact: 'abort' } } }],
        fault: { abort: { httpStatus: 418, percentage: { value: 100 } } },
        route: [to('v1')],
      },
      {
        match: [{ headers: { 'x-fault': { exact: 'delay' } } }],
        fault: { delay: { fixedDelay: '300ms', percentage: { value: 100 } } },
        route: [to('v1')],
      },
      { match: [{ uri: { prefix: '/slow' } }], timeout: '0.5s', retries: { attempts: 0 }, route: [to('v2')] },
      { match: [{ uri: { prefix: '/flaky' } }], retries: { attempts: 2, retryOn: '5xx' }, route: [to('v1')] },
      { route: [to('v1', weights.v1), to('v2', weights.v2)] },
    ],
  });
}

describe('weft-proxy driven by weft-discovery from Istio YAML', () => {
  let config: MeshConfigDir;
  let mesh: LocalMesh;
  const backends: Record<string, Backend> = {};

  const send = (path: string, headers: Record<string, string> = {}, host = `${HOST}:${PORT}`) =>
    sendThrough(mesh.client, host, path, headers);
  /** Which backend served each of `n` requests, counted. */
  const spread = async (n: number): Promise<Map<string, number>> => {
    const counts = new Map<string, number>();
    const answers = await Promise.all(Array.from({ length: n }, () => send('/spread')));
    for (const { backend } of answers)
      counts.set(backend ?? 'none', (counts.get(backend ?? 'none') ?? 0) + 1);
    return counts;
  };

  beforeAll(async () => {
    backends.v1 = await startBackend('v1', '127.0.0.2');
    backends.v2 = await startBackend('v2', '127.0.0.3');
    config = await createMeshConfigDir();
    await config.write('reviews.yaml', serviceEntry(), subsets(), virtualService({ v1: 80, v2: 20 }));
    await config.write('workload-v1.yaml', workloadEntry('v1', backends.v1, '127.0.0.2'));
    await config.write('workload-v2.yaml', workloadEntry('v2', backends.v2, '127.0.0.3'));
    mesh = await startLocalMesh(config.dir, LISTENER);
    // The listener warms until its RouteConfiguration arrives; then the fault route answers.
    await eventually(
      'the VirtualService routes to serve',
      async () => (await send('/', { 'x-fault': 'abort' })).status === 418,
    );
  }, 30_000);

  afterAll(async () => {
    await mesh?.close();
    await Promise.all(Object.values(backends).map((b) => b.close()));
    await config?.cleanup();
  });

  it('routes by Host (full name and short name); an unknown host goes to PassthroughCluster', async () => {
    expect(await send('/a')).toMatchObject({ status: 200 });
    expect(await send('/a', {}, `reviews:${PORT}`)).toMatchObject({ status: 200 });
    const seen = backends.v1!.requests.length + backends.v2!.requests.length;
    // Istio's allow_any virtual host sends it to the original destination, which local mode lacks: 503.
    const unknown = await send('/unknown', {}, 'ratings.default.svc.cluster.local:9080');
    expect(unknown.status).toBe(503);
    expect(backends.v1!.requests.length + backends.v2!.requests.length).toBe(seen);
  });

  it('splits traffic 80/20 between subsets by VirtualService weights', async () => {
    const counts = await spread(400);
    const v1 = counts.get('v1') ?? 0;
    expect(v1 + (counts.get('v2') ?? 0)).toBe(400);
    expect(v1 / 400).toBeGreaterThan(0.7);
    expect(v1 / 400).toBeLessThan(0.9);
  });

  it('retries 5xx as the VirtualService says: two 503s then 200 reach the client as 200', async () => {
    const before = backends.v1!.requests.filter((r) => r.url === '/flaky').length;
    backends.v1!.statuses.push(503, 503);
    const answer = await send('/flaky');
    expect(answer).toMatchObject({ status: 200, backend: 'v1' });
    expect(backends.v1!.requests.filter((r) => r.url === '/flaky').length - before).toBe(3);
  });

  it('injects an abort and a fixed delay', async () => {
    const aborted = await send('/x', { 'x-fault': 'abort' });
    expect(aborted.status).toBe(418);
    const delayed = await send('/x', { 'x-fault': 'delay' });
    expect(delayed.status).toBe(200);
    expect(delayed.ms).toBeGreaterThanOrEqual(280);
  });

  it('answers 504 when the route timeout passes, long before the backend would', async () => {
    backends.v2!.delays.push(5000);
    const answer = await send('/slow');
    expect(answer.status).toBe(504);
    expect(answer.ms).toBeGreaterThanOrEqual(450);
    expect(answer.ms).toBeLessThan(3000);
  });

  it('applies a VirtualService edit: all traffic moves to v2', async () => {
    await config.write('reviews.yaml', serviceEntry(), subsets(), virtualService({ v1: 0, v2: 100 }));
    await eventually('all traffic on v2', async () => (await spread(40)).get('v2') === 40);
    expect((await spread(200)).get('v2')).toBe(200);
  });

  it('stops sending to an endpoint whose WorkloadEntry is removed', async () => {
    await config.write('reviews.yaml', serviceEntry());
    await eventually('both endpoints to serve without subsets', async () => (await spread(60)).size === 2);
    await config.remove('workload-v2.yaml');
    await eventually('v2 to get no more requests', async () => (await spread(40)).get('v1') === 40);
    const before = backends.v2!.requests.length;
    expect((await spread(100)).get('v1')).toBe(100);
    expect(backends.v2!.requests.length).toBe(before);
  });

  it('keeps serving its last good config while the control plane is gone', async () => {
    await mesh.discovery.stop();
    expect((await spread(50)).get('v1')).toBe(50);
  });
});
