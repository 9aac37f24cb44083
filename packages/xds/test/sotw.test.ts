/**
 * State-of-the-world ADS: the @weft/xds client against the @weft/xds server
 * over real gRPC on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import {
  type AdsClientOptions,
  buildCluster,
  buildClusterLoadAssignment,
  buildListener,
  buildRouteConfiguration,
  buildSecret,
  CLUSTER_TYPE_URL,
  createSnapshot,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
  SECRET_TYPE_URL,
  type TestControlPlane,
  TYPE_SHORT_NAMES,
  type TypeUrl,
  waitUntil,
} from '../src/index.ts';
import {
  ALL_TYPES,
  acksOf,
  controlPlane,
  mesh,
  client as modeClient,
  names,
  pushesOf,
  pushSummary,
  runningClient,
} from './ads-harness.ts';

const client = (plane: TestControlPlane, nodeId: string, extra: Partial<AdsClientOptions> = {}) =>
  modeClient(plane, nodeId, 'sotw', extra);

describe('SotW ADS', () => {
  it('delivers every type and records an ACK per type at the sent version', async () => {
    const plane = await controlPlane();
    const ads = await runningClient(plane, 'n1', 'sotw');
    expect(ads.connectionState()).toBe('connected');
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, ENDPOINT_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, LISTENER_TYPE_URL)).toEqual(['l']);
    expect(names(ads, ROUTE_TYPE_URL)).toEqual(['80']);
    expect(ads.resources(CLUSTER_TYPE_URL).get('a')?.body).toEqual(buildCluster('a').body);
    const [status] = plane.ads.syncStatus();
    for (const typeUrl of ALL_TYPES) {
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
    const ads = await runningClient(plane, 'n1', 'sotw');
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

  it('sends only the changed EDS and RDS resources of a view the stream has, at the full set version', async () => {
    const plane = await controlPlane();
    const ads = await runningClient(plane, 'n1', 'sotw');
    const before = plane.pushes.length;
    const next = createSnapshot({
      [CLUSTER_TYPE_URL]: ['a', 'b'].map((c) => buildCluster(c)),
      [ENDPOINT_TYPE_URL]: [
        buildClusterLoadAssignment('a', ['10.0.0.9:80']),
        buildClusterLoadAssignment('b', ['10.0.0.1:80']),
      ],
      [LISTENER_TYPE_URL]: [buildListener('l', '80')],
      [ROUTE_TYPE_URL]: [buildRouteConfiguration('80', 'a')],
    });
    plane.cache.setSnapshot('n1', next);
    await waitUntil(() => plane.acks.length === 5, { description: 'the EDS ACK' });
    expect(pushSummary(plane, before)).toEqual(['EDS:1']);
    expect(ads.version(ENDPOINT_TYPE_URL)).toBe(next.version(ENDPOINT_TYPE_URL));
    expect(names(ads, ENDPOINT_TYPE_URL)).toEqual(['a', 'b']);
    expect(ads.resources(ENDPOINT_TYPE_URL).get('a')?.body).toEqual(
      next.resources(ENDPOINT_TYPE_URL).get('a')?.body,
    );
  });

  it('keeps the same Resource object for a resource whose bytes did not change', async () => {
    const plane = await controlPlane();
    const ads = await runningClient(plane, 'n1', 'sotw');
    const b = ads.resources(ENDPOINT_TYPE_URL).get('b');
    const changedA = createSnapshot({
      [CLUSTER_TYPE_URL]: ['a', 'b'].map((c) => buildCluster(c)),
      [ENDPOINT_TYPE_URL]: [
        buildClusterLoadAssignment('a', ['10.0.0.9:80']),
        buildClusterLoadAssignment('b', ['10.0.0.1:80']),
      ],
      [LISTENER_TYPE_URL]: [buildListener('l', '80')],
      [ROUTE_TYPE_URL]: [buildRouteConfiguration('80', 'a')],
    });
    plane.cache.setSnapshot('n1', changedA);
    await waitUntil(() => acksOf(plane, 'n1', ENDPOINT_TYPE_URL).length === 2);
    expect(ads.resources(ENDPOINT_TYPE_URL).get('b')).toBe(b);
    expect(ads.resources(ENDPOINT_TYPE_URL).get('a')?.body).toEqual(
      buildClusterLoadAssignment('a', ['10.0.0.9:80']).body,
    );
  });

  it('keeps other types and other nodes flowing when a client NACKs, and does not resend the NACKed version', async () => {
    const plane = await controlPlane();
    const rejectCluster = (typeUrl: TypeUrl, resources: readonly Resource[]) =>
      typeUrl === CLUSTER_TYPE_URL && resources.some((r) => r.name === 'bad')
        ? ['cluster "bad": unsupported']
        : [];
    const picky = await runningClient(plane, 'n1', 'sotw', { validate: rejectCluster });
    const other = await runningClient(plane, 'n2', 'sotw');
    const goodCds = picky.version(CLUSTER_TYPE_URL);

    const withBad = mesh('10.0.0.2', ['a', 'b', 'bad']);
    plane.cache.setSnapshot('n1', withBad);
    plane.cache.setSnapshot('n2', withBad);
    await waitUntil(() => plane.nacks.length === 1 && acksOf(plane, 'n2').length === 6);
    const [nack] = plane.nacks;
    expect(nack?.nodeId).toBe('n1');
    expect(nack?.typeUrl).toBe(CLUSTER_TYPE_URL);
    expect(nack?.errorDetail.message).toBe('cluster "bad": unsupported');
    // n1 keeps its last good clusters but still received the new endpoints.
    await waitUntil(
      () =>
        picky.resources(ENDPOINT_TYPE_URL).get('a')?.body !== undefined &&
        acksOf(plane, 'n1', ENDPOINT_TYPE_URL).length === 2,
    );
    expect(names(picky, CLUSTER_TYPE_URL)).toEqual(['a', 'b']);
    expect(picky.version(CLUSTER_TYPE_URL)).toBe(goodCds);
    expect(picky.resources(ENDPOINT_TYPE_URL).get('a')?.body).toEqual(
      buildClusterLoadAssignment('a', ['10.0.0.2:80']).body,
    );
    expect(names(other, CLUSTER_TYPE_URL)).toEqual(['a', 'b', 'bad']);
    const status = plane.ads.syncStatus().find((s) => s.nodeId === 'n1');
    expect(status?.types[CLUSTER_TYPE_URL]?.lastNack?.message).toBe('cluster "bad": unsupported');
    expect(status?.types[CLUSTER_TYPE_URL]?.nackCount).toBe(1);
    expect(status?.types[ENDPOINT_TYPE_URL]?.nackCount).toBe(0);
    expect(status?.types[CLUSTER_TYPE_URL]?.ackedVersion).toBe(goodCds);

    // Same content again (a rebuilt snapshot): nothing is resent for the NACKed type.
    const cdsPushes = pushesOf(plane, 'n1', CLUSTER_TYPE_URL).length;
    const endpointsOnly = mesh('10.0.0.3', ['a', 'b', 'bad']);
    plane.cache.setSnapshot('n1', endpointsOnly);
    await waitUntil(() => acksOf(plane, 'n1', ENDPOINT_TYPE_URL).length === 3);
    expect(pushesOf(plane, 'n1', CLUSTER_TYPE_URL)).toHaveLength(cdsPushes);

    // The fix comes with the next real change.
    plane.cache.setSnapshot('n1', mesh('10.0.0.3', ['a', 'b', 'c']));
    await waitUntil(() => names(picky, CLUSTER_TYPE_URL).join() === 'a,b,c');
    expect(plane.nacks).toHaveLength(1);
  });

  it('reconnects with backoff, keeps the last good resources meanwhile, and resumes without a resend', async () => {
    const first = await controlPlane();
    const ads = await runningClient(first, 'n1', 'sotw');
    const states: string[] = [];
    ads.onConnectionState((s) => states.push(s));
    const versions = ALL_TYPES.map((t) => ads.version(t));

    first.stop();
    await waitUntil(() => ads.connectionState() !== 'connected', { description: 'disconnect' });
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, ROUTE_TYPE_URL)).toEqual(['80']);

    const second = await controlPlane(first.port, first.cache);
    await waitUntil(() => second.opened.length === 1, { description: 'reconnect' });
    // The server has handled all four resubscriptions once it records their versions.
    const resumed = () => ALL_TYPES.map((t) => second.ads.syncStatus()[0]?.types[t]?.ackedVersion);
    await waitUntil(() => resumed().every((v) => v !== undefined && v !== ''), { description: 'resume' });
    expect(resumed()).toEqual(versions);
    // Unchanged config: the new server resent nothing the client already runs.
    expect(second.pushes).toEqual([]);
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

  it('resumes without a resend when the restarted server gets the snapshot after the client reconnected', async () => {
    const first = await controlPlane();
    const ads = await runningClient(first, 'n1', 'sotw');
    first.stop();
    await waitUntil(() => ads.connectionState() === 'disconnected');
    const second = await controlPlane(first.port);
    await waitUntil(() => second.opened.length === 1, { description: 'reconnect' });
    second.cache.setSnapshot('n1', mesh());
    const resumed = () => ALL_TYPES.map((t) => second.ads.syncStatus()[0]?.types[t]?.ackedVersion);
    await waitUntil(() => resumed().every((v) => v !== undefined && v !== ''), { description: 'resume' });
    expect(resumed()).toEqual(ALL_TYPES.map((t) => ads.version(t)));
    expect(second.pushes).toEqual([]);
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
    const ads = await runningClient(plane, 'n1', 'sotw');
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
    expect(pushSummary(plane, before)).toEqual(['CDS:2', 'EDS:1', 'RDS:1', 'CDS:1']);
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

  it('pushes secrets before the clusters that use them, and keeps RDS/EDS/SDS resources that lapse', async () => {
    const plane = await controlPlane();
    const withSecrets = (ca: string, clusters: string[]) =>
      createSnapshot({
        [SECRET_TYPE_URL]: [buildSecret('ROOTCA', ca)],
        [CLUSTER_TYPE_URL]: clusters.map((c) => buildCluster(c)),
        [ENDPOINT_TYPE_URL]: clusters.map((c) => buildClusterLoadAssignment(c, ['10.0.0.1:80'])),
      });
    plane.cache.setSnapshot('n1', withSecrets('ca-1', ['a']));
    const ads = client(plane, 'n1');
    ads.subscribe(CLUSTER_TYPE_URL);
    ads.subscribe(ENDPOINT_TYPE_URL, ['a', 'b']);
    ads.subscribe(SECRET_TYPE_URL, ['ROOTCA']);
    ads.start();
    await waitUntil(() => plane.acks.length === 3);
    const from = plane.pushes.length;
    plane.cache.setSnapshot('n1', withSecrets('ca-2', ['b']));
    // The ACK of the interim CDS response carries a superseded nonce and is ignored.
    await waitUntil(() => plane.acks.length === 6);
    expect(pushSummary(plane, from)).toEqual(['SDS:1', 'CDS:2', 'EDS:1', 'CDS:1']);
    expect(ads.resources(SECRET_TYPE_URL).get('ROOTCA')?.body).toEqual(buildSecret('ROOTCA', 'ca-2').body);
    // SotW EDS has no deletion signal: endpoints of a stay until unsubscribed.
    expect(names(ads, ENDPOINT_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['b']);
  });

  it('ends every stream on close, and the client keeps its resources', async () => {
    const plane = await controlPlane();
    const ads = await runningClient(plane, 'n1', 'sotw');
    plane.ads.close();
    await waitUntil(() => ads.connectionState() === 'disconnected' && plane.closed.length === 1);
    expect(plane.ads.connectedNodes()).toEqual([]);
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['a', 'b']);
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
