/**
 * State-of-the-world ADS: the @weft/xds client against the @weft/xds server
 * over real gRPC on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AdsClient,
  type AdsClientOptions,
  buildCluster,
  buildClusterLoadAssignment,
  buildListener,
  buildRouteConfiguration,
  CLUSTER_TYPE_URL,
  createAdsClient,
  createSnapshot,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
  startTestControlPlane,
  type TestControlPlane,
  TYPE_SHORT_NAMES,
  type TypeUrl,
  waitUntil,
} from '../src/index.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

async function controlPlane(port?: number, cache?: TestControlPlane['cache']): Promise<TestControlPlane> {
  const plane = await startTestControlPlane({ ...(port ? { port } : {}), ...(cache ? { cache } : {}) });
  cleanups.push(() => plane.stop());
  return plane;
}

function client(plane: TestControlPlane, nodeId: string, extra: Partial<AdsClientOptions> = {}): AdsClient {
  const ads = createAdsClient({
    address: plane.address,
    node: { id: nodeId, metadata: { NAMESPACE: 'default' } },
    mode: 'sotw',
    backoff: { initialMs: 20, maxMs: 100, jitter: 0.1 },
    ...extra,
  });
  cleanups.push(() => ads.close());
  return ads;
}

/** A mesh view: clusters a/b with endpoints, listener l -> route 80 -> a. */
function mesh(endpointIp = '10.0.0.1', clusters = ['a', 'b']) {
  return createSnapshot({
    [CLUSTER_TYPE_URL]: clusters.map((c) => buildCluster(c)),
    [ENDPOINT_TYPE_URL]: clusters.map((c) => buildClusterLoadAssignment(c, [`${endpointIp}:80`])),
    [LISTENER_TYPE_URL]: [buildListener('l', '80')],
    [ROUTE_TYPE_URL]: [buildRouteConfiguration('80', 'a')],
  });
}

const names = (ads: AdsClient, typeUrl: TypeUrl) => [...ads.resources(typeUrl).keys()].sort();
const pushesOf = (plane: TestControlPlane, nodeId: string, typeUrl?: TypeUrl) =>
  plane.pushes.filter((p) => p.nodeId === nodeId && (!typeUrl || p.typeUrl === typeUrl));

function subscribeAll(ads: AdsClient): void {
  ads.subscribe(CLUSTER_TYPE_URL);
  ads.subscribe(ENDPOINT_TYPE_URL, ['a', 'b']);
  ads.subscribe(LISTENER_TYPE_URL);
  ads.subscribe(ROUTE_TYPE_URL, ['80']);
}

describe('SotW ADS', () => {
  it('delivers every type and records an ACK per type at the sent version', async () => {
    const plane = await controlPlane();
    const snapshot = mesh();
    plane.cache.setSnapshot('n1', snapshot);
    const ads = client(plane, 'n1');
    subscribeAll(ads);
    ads.start();
    await waitUntil(() => plane.acks.length === 4, { description: '4 ACKs' });
    expect(ads.connectionState()).toBe('connected');
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, ENDPOINT_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, LISTENER_TYPE_URL)).toEqual(['l']);
    expect(names(ads, ROUTE_TYPE_URL)).toEqual(['80']);
    expect(ads.resources(CLUSTER_TYPE_URL).get('a')?.body).toEqual(buildCluster('a').body);
    const [status] = plane.ads.syncStatus();
    for (const typeUrl of [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL] as const) {
      const type = status?.types[typeUrl];
      expect(type?.ackedVersion, TYPE_SHORT_NAMES[typeUrl]).toBe(type?.sentVersion);
      expect(ads.version(typeUrl)).toBe(type?.sentVersion);
    }
    expect(plane.ads.connectedNodes().map((n) => [n.id, n.metadata])).toEqual([
      ['n1', { NAMESPACE: 'default' }],
    ]);
  });

  it('pushes only what changed, in CDS -> EDS -> LDS -> RDS order', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('n1', mesh());
    const ads = client(plane, 'n1');
    subscribeAll(ads);
    ads.start();
    await waitUntil(() => plane.acks.length === 4);
    const before = plane.pushes.length;
    plane.cache.setSnapshot('n1', mesh('10.0.0.2'));
    await waitUntil(() => plane.acks.length === 5);
    expect(plane.pushes.slice(before).map((p) => TYPE_SHORT_NAMES[p.typeUrl])).toEqual(['EDS']);
    expect(ads.resources(ENDPOINT_TYPE_URL).get('a')?.body).toEqual(
      buildClusterLoadAssignment('a', ['10.0.0.2:80']).body,
    );

    const all = plane.pushes.length;
    plane.cache.setSnapshot(
      'n1',
      createSnapshot({
        [CLUSTER_TYPE_URL]: ['a', 'b', 'c'].map((c) => buildCluster(c)),
        [ENDPOINT_TYPE_URL]: ['a', 'b', 'c'].map((c) => buildClusterLoadAssignment(c, ['10.0.0.3:80'])),
        [LISTENER_TYPE_URL]: [buildListener('l', '80', 15002)],
        [ROUTE_TYPE_URL]: [buildRouteConfiguration('80', 'c')],
      }),
    );
    await waitUntil(() => plane.acks.length === 9);
    expect(plane.pushes.slice(all).map((p) => TYPE_SHORT_NAMES[p.typeUrl])).toEqual([
      'CDS',
      'EDS',
      'LDS',
      'RDS',
    ]);
  });

  it('keeps other types and other nodes flowing when a client NACKs, and does not resend the NACKed version', async () => {
    const plane = await controlPlane();
    const rejectCluster = (typeUrl: TypeUrl, resources: readonly Resource[]) =>
      typeUrl === CLUSTER_TYPE_URL && resources.some((r) => r.name === 'bad')
        ? ['cluster "bad": unsupported']
        : [];
    plane.cache.setSnapshot('n1', mesh());
    plane.cache.setSnapshot('n2', mesh());
    const picky = client(plane, 'n1', { validate: rejectCluster });
    const other = client(plane, 'n2');
    subscribeAll(picky);
    subscribeAll(other);
    picky.start();
    other.start();
    await waitUntil(() => plane.acks.length === 8);
    const goodCds = picky.version(CLUSTER_TYPE_URL);

    const withBad = mesh('10.0.0.2', ['a', 'b', 'bad']);
    plane.cache.setSnapshot('n1', withBad);
    plane.cache.setSnapshot('n2', withBad);
    await waitUntil(
      () => plane.nacks.length === 1 && plane.acks.filter((a) => a.nodeId === 'n2').length === 6,
    );
    const [nack] = plane.nacks;
    expect(nack?.nodeId).toBe('n1');
    expect(nack?.typeUrl).toBe(CLUSTER_TYPE_URL);
    expect(nack?.errorDetail.message).toBe('cluster "bad": unsupported');
    // n1 keeps its last good clusters but still received the new endpoints.
    await waitUntil(
      () =>
        picky.resources(ENDPOINT_TYPE_URL).get('a')?.body !== undefined &&
        plane.acks.filter((a) => a.nodeId === 'n1' && a.typeUrl === ENDPOINT_TYPE_URL).length === 2,
    );
    expect(names(picky, CLUSTER_TYPE_URL)).toEqual(['a', 'b']);
    expect(picky.version(CLUSTER_TYPE_URL)).toBe(goodCds);
    expect(picky.resources(ENDPOINT_TYPE_URL).get('a')?.body).toEqual(
      buildClusterLoadAssignment('a', ['10.0.0.2:80']).body,
    );
    expect(names(other, CLUSTER_TYPE_URL)).toEqual(['a', 'b', 'bad']);
    const status = plane.ads.syncStatus().find((s) => s.nodeId === 'n1');
    expect(status?.types[CLUSTER_TYPE_URL]?.lastNack?.message).toBe('cluster "bad": unsupported');
    expect(status?.types[CLUSTER_TYPE_URL]?.ackedVersion).toBe(goodCds);

    // Same content again (a rebuilt snapshot): nothing is resent for the NACKed type.
    const cdsPushes = pushesOf(plane, 'n1', CLUSTER_TYPE_URL).length;
    const endpointsOnly = mesh('10.0.0.3', ['a', 'b', 'bad']);
    plane.cache.setSnapshot('n1', endpointsOnly);
    await waitUntil(
      () => plane.acks.filter((a) => a.nodeId === 'n1' && a.typeUrl === ENDPOINT_TYPE_URL).length === 3,
    );
    expect(pushesOf(plane, 'n1', CLUSTER_TYPE_URL)).toHaveLength(cdsPushes);

    // The fix comes with the next real change.
    plane.cache.setSnapshot('n1', mesh('10.0.0.3', ['a', 'b', 'c']));
    await waitUntil(() => names(picky, CLUSTER_TYPE_URL).join() === 'a,b,c');
    expect(plane.nacks).toHaveLength(1);
  });

  it('reconnects with backoff, keeps the last good resources meanwhile, and resumes without a resend', async () => {
    const first = await controlPlane();
    first.cache.setSnapshot('n1', mesh());
    const ads = client(first, 'n1');
    const states: string[] = [];
    ads.onConnectionState((s) => states.push(s));
    subscribeAll(ads);
    ads.start();
    await waitUntil(() => first.acks.length === 4);
    const versions = ([CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL] as const).map(
      (t) => ads.version(t),
    );

    first.stop();
    await waitUntil(() => ads.connectionState() !== 'connected', { description: 'disconnect' });
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, ROUTE_TYPE_URL)).toEqual(['80']);

    const second = await controlPlane(first.port, first.cache);
    await waitUntil(() => second.opened.length === 1, { description: 'reconnect' });
    // Unchanged config: the new server must not resend anything the client already runs.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(second.pushes).toEqual([]);
    const status = second.ads.syncStatus()[0];
    expect(status?.types[CLUSTER_TYPE_URL]?.ackedVersion).toBe(versions[0]);
    expect(states).toContain('disconnected');

    // A change after the resume flows as usual.
    second.cache.setSnapshot('n1', mesh('10.0.0.7'));
    await waitUntil(
      () =>
        ads.resources(ENDPOINT_TYPE_URL).get('b')?.body !== undefined &&
        ads.version(ENDPOINT_TYPE_URL) !== versions[1],
    );
    expect(ads.connectionState()).toBe('connected');
  });

  it('stops sending resources after an unsubscribe, and removes clusters dropped from full-state CDS', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('n1', mesh());
    const removed: string[][] = [];
    const ads = client(plane, 'n1', {
      onUpdate: (typeUrl, update) => {
        if (typeUrl === CLUSTER_TYPE_URL && update.removed.length > 0) removed.push([...update.removed]);
      },
    });
    ads.subscribe(CLUSTER_TYPE_URL);
    ads.subscribe(ENDPOINT_TYPE_URL, ['a', 'b']);
    ads.start();
    await waitUntil(() => plane.acks.length === 2);

    ads.unsubscribe(ENDPOINT_TYPE_URL, ['b']);
    expect(names(ads, ENDPOINT_TYPE_URL)).toEqual(['a']);
    await waitUntil(() => plane.acks.length === 3);
    const [last] = plane.pushes.slice(-1);
    expect(last?.typeUrl).toBe(ENDPOINT_TYPE_URL);
    expect(last?.resourceCount).toBe(1);

    plane.cache.setSnapshot('n1', mesh('10.0.0.1', ['a']));
    await waitUntil(() => removed.length === 1);
    expect(removed).toEqual([['b']]);
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['a']);
  });

  it('keeps a removed cluster until endpoints and routes moved off it (make-before-break)', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('n1', mesh());
    const ads = client(plane, 'n1');
    subscribeAll(ads);
    ads.start();
    await waitUntil(() => plane.acks.length === 4);
    const before = plane.pushes.length;
    plane.cache.setSnapshot(
      'n1',
      createSnapshot({
        [CLUSTER_TYPE_URL]: [buildCluster('b')],
        [ENDPOINT_TYPE_URL]: [buildClusterLoadAssignment('b', ['10.0.0.1:80'])],
        [LISTENER_TYPE_URL]: [buildListener('l', '80')],
        [ROUTE_TYPE_URL]: [buildRouteConfiguration('80', 'b')],
      }),
    );
    await waitUntil(() => names(ads, CLUSTER_TYPE_URL).join() === 'b');
    const pushed = plane.pushes.slice(before);
    expect(pushed.map((p) => `${TYPE_SHORT_NAMES[p.typeUrl]}:${p.resourceCount}`)).toEqual([
      'CDS:2',
      'EDS:1',
      'RDS:1',
      'CDS:1',
    ]);
  });

  it('serves named LDS and CDS subscriptions (as proxyless gRPC asks)', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('n1', mesh());
    const ads = client(plane, 'n1');
    ads.subscribe(LISTENER_TYPE_URL, ['l']);
    ads.subscribe(CLUSTER_TYPE_URL, ['b']);
    ads.start();
    await waitUntil(() => plane.acks.length === 2);
    expect(names(ads, LISTENER_TYPE_URL)).toEqual(['l']);
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['b']);
    ads.subscribe(CLUSTER_TYPE_URL, ['a']);
    await waitUntil(() => names(ads, CLUSTER_TYPE_URL).join() === 'a,b');
  });

  it('answers a node whose snapshot arrives after it subscribed', async () => {
    const plane = await controlPlane();
    const ads = client(plane, 'late');
    ads.subscribe(CLUSTER_TYPE_URL);
    ads.start();
    await waitUntil(() => plane.opened.length === 1);
    expect(plane.pushes).toEqual([]);
    plane.cache.setSnapshot('late', mesh());
    await waitUntil(() => names(ads, CLUSTER_TYPE_URL).length === 2);
  });
});
