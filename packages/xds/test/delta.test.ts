/**
 * Incremental (delta) ADS: the @weft/xds client against the @weft/xds server
 * over real gRPC on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import {
  type AdsClientOptions,
  buildClusterLoadAssignment,
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
  type TestControlPlane,
  type TypeUpdate,
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
  modeClient(plane, nodeId, 'delta', extra);

describe('delta ADS', () => {
  it('delivers every type with per-resource versions and records the ACKs', async () => {
    const plane = await controlPlane();
    const ads = await runningClient(plane, 'n1', 'delta');
    expect(names(ads, CLUSTER_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, ENDPOINT_TYPE_URL)).toEqual(['a', 'b']);
    expect(names(ads, LISTENER_TYPE_URL)).toEqual(['l']);
    expect(names(ads, ROUTE_TYPE_URL)).toEqual(['80']);
    const [status] = plane.ads.syncStatus();
    expect(status?.mode).toBe('delta');
    for (const typeUrl of ALL_TYPES) expect(status?.types[typeUrl]?.ackedVersion).toBe(ads.version(typeUrl));
  });

  it('sends only the resources that changed, and removals as removed_resources', async () => {
    const plane = await controlPlane();
    const updates: [TypeUrl, TypeUpdate][] = [];
    const ads = await runningClient(plane, 'n1', 'delta', { onUpdate: (t, u) => updates.push([t, u]) });
    const before = plane.pushes.length;
    const onlyA = mesh('10.0.0.1', ['a']);
    plane.cache.setSnapshot('n1', onlyA);
    await waitUntil(
      () => names(ads, CLUSTER_TYPE_URL).join() === 'a' && names(ads, ENDPOINT_TYPE_URL).join() === 'a',
    );
    // Nothing is resent; b goes away, clusters last (make-before-break).
    expect(
      pushesOf(plane, 'n1')
        .slice(before)
        .map((p) => [p.typeUrl, p.resourceCount, p.removedCount]),
    ).toEqual([
      [ENDPOINT_TYPE_URL, 0, 1],
      [CLUSTER_TYPE_URL, 0, 1],
    ]);
    expect(updates.filter(([, u]) => u.removed.length > 0).map(([t, u]) => [t, u.removed])).toEqual([
      [ENDPOINT_TYPE_URL, ['b']],
      [CLUSTER_TYPE_URL, ['b']],
    ]);

    const from = plane.pushes.length;
    plane.cache.setSnapshot('n1', mesh('10.0.0.9', ['a']));
    await waitUntil(() => plane.pushes.length > from && acksOf(plane, 'n1', ENDPOINT_TYPE_URL).length >= 3);
    expect(pushSummary(plane, from)).toEqual(['EDS:1']);
  });

  it('NACKs through validate, keeps the last good resource, and keeps other types flowing', async () => {
    const plane = await controlPlane();
    const rejectEmpty = (typeUrl: TypeUrl, resources: readonly Resource[]) =>
      typeUrl === ENDPOINT_TYPE_URL && resources.some((r) => JSON.stringify(r.body).includes('10.6.6.6'))
        ? ['endpoint 10.6.6.6 is blocked']
        : [];
    const ads = await runningClient(plane, 'n1', 'delta', { validate: rejectEmpty });
    const goodEds = ads.resources(ENDPOINT_TYPE_URL).get('a');
    plane.cache.setSnapshot('n1', mesh('10.6.6.6', ['a', 'b', 'c']));
    await waitUntil(() => plane.nacks.length === 1 && names(ads, CLUSTER_TYPE_URL).join() === 'a,b,c');
    expect(plane.nacks[0]?.typeUrl).toBe(ENDPOINT_TYPE_URL);
    expect(plane.nacks[0]?.errorDetail).toEqual({ code: 3, message: 'endpoint 10.6.6.6 is blocked' });
    expect(ads.resources(ENDPOINT_TYPE_URL).get('a')).toBe(goodEds);
    const status = plane.ads.syncStatus()[0];
    expect(status?.types[ENDPOINT_TYPE_URL]?.lastNack?.message).toBe('endpoint 10.6.6.6 is blocked');
    // Routes still flow after the NACK.
    const from = plane.pushes.length;
    plane.cache.setSnapshot('n1', mesh('10.6.6.6', ['c', 'a', 'b']));
    await waitUntil(
      () => ads.resources(ROUTE_TYPE_URL).get('80')?.body !== undefined && plane.pushes.length > from,
    );
    await waitUntil(() => acksOf(plane, 'n1', ROUTE_TYPE_URL).length === 2);
    // The NACKed endpoints were not sent again.
    expect(pushSummary(plane, from)).toEqual(['RDS:1']);
  });

  it('resumes after a reconnect without resending what the client already has', async () => {
    const first = await controlPlane();
    const ads = await runningClient(first, 'n1', 'delta');
    const kept = ads.resources(CLUSTER_TYPE_URL);
    first.stop();
    await waitUntil(() => ads.connectionState() === 'disconnected');
    expect(ads.resources(CLUSTER_TYPE_URL)).toBe(kept);

    // While the client is away, endpoint a changes and cluster b goes.
    first.cache.setSnapshot('n1', mesh('10.0.0.5', ['a']));
    const second = await controlPlane(first.port, first.cache);
    await waitUntil(
      () => names(ads, CLUSTER_TYPE_URL).join() === 'a' && names(ads, ENDPOINT_TYPE_URL).join() === 'a',
    );
    await waitUntil(() => second.acks.length === 4);
    const sent = Object.fromEntries(second.pushes.map((p) => [p.typeUrl, [p.resourceCount, p.removedCount]]));
    expect(sent).toEqual({
      [CLUSTER_TYPE_URL]: [0, 1],
      [ENDPOINT_TYPE_URL]: [1, 1],
      [LISTENER_TYPE_URL]: [0, 0],
      [ROUTE_TYPE_URL]: [0, 0],
    });
    expect(ads.resources(ENDPOINT_TYPE_URL).get('a')?.body).toEqual(
      buildClusterLoadAssignment('a', ['10.0.0.5:80']).body,
    );
  });

  it('subscribes and unsubscribes names on a live stream, and reports names that do not exist', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('n1', mesh('10.0.0.1', ['a', 'b', 'c']));
    const removed: string[] = [];
    const ads = client(plane, 'n1', {
      onUpdate: (typeUrl, update) => {
        if (typeUrl === ENDPOINT_TYPE_URL) removed.push(...update.removed);
      },
    });
    ads.subscribe(ENDPOINT_TYPE_URL, ['a']);
    ads.start();
    await waitUntil(() => names(ads, ENDPOINT_TYPE_URL).join() === 'a');
    ads.subscribe(ENDPOINT_TYPE_URL, ['b', 'ghost']);
    await waitUntil(() => names(ads, ENDPOINT_TYPE_URL).join() === 'a,b' && removed.includes('ghost'));
    ads.unsubscribe(ENDPOINT_TYPE_URL, ['a']);
    expect(names(ads, ENDPOINT_TYPE_URL)).toEqual(['b']);
    // The stream is ordered: once c's push is ACKed, the server has seen the unsubscribe.
    ads.subscribe(ENDPOINT_TYPE_URL, ['c']);
    await waitUntil(() => names(ads, ENDPOINT_TYPE_URL).join() === 'b,c' && acksOf(plane, 'n1').length === 3);
    // A change to the dropped name is not pushed; changes to kept names are.
    const from = plane.pushes.length;
    plane.cache.setSnapshot('n1', mesh('10.0.0.2', ['a', 'b', 'c']));
    await waitUntil(() => acksOf(plane, 'n1').length === 4);
    expect(pushSummary(plane, from)).toEqual(['EDS:2']);
    expect(names(ads, ENDPOINT_TYPE_URL)).toEqual(['b', 'c']);
    expect(ads.resources(ENDPOINT_TYPE_URL).get('b')?.body).toEqual(
      buildClusterLoadAssignment('b', ['10.0.0.2:80']).body,
    );
  });
});
