import { describe, expect, it } from 'vitest';
import { createSnapshot } from '../cache/snapshot.ts';
import { decodeResource } from '../resources/resource.ts';
import { buildCluster, buildClusterLoadAssignment } from '../testing/resource-builders.ts';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL } from '../type-urls.ts';
import { ADS_SERVICE_DEFINITION, type DiscoveryResponse } from '../wire/ads-wire.ts';
import { snapshotView } from './sotw-view.ts';
import { subscriptionUpdate } from './subscription.ts';

const snapshot = createSnapshot({
  [ENDPOINT_TYPE_URL]: ['a', 'b', 'c'].map((n) => buildClusterLoadAssignment(n, ['10.0.0.1:80'])),
});
const named = (...names: string[]) => subscriptionUpdate(undefined, names, false).subscription;

describe('snapshotView', () => {
  it('shares one view between streams with the same subscription, in any name order', () => {
    expect(snapshotView(snapshot, ENDPOINT_TYPE_URL, named('a', 'b'))).toBe(
      snapshotView(snapshot, ENDPOINT_TYPE_URL, named('b', 'a')),
    );
    expect(snapshotView(snapshot, ENDPOINT_TYPE_URL, named('a'))).not.toBe(
      snapshotView(snapshot, ENDPOINT_TYPE_URL, named('a', 'b')),
    );
  });

  it.each([
    ['wildcard', ['*'], ['a', 'b', 'c']],
    ['named subset', ['c', 'a'], ['c', 'a']],
    ['names that do not exist are left out', ['a', 'ghost'], ['a']],
  ])('selects the %s', (_name, names, expected) => {
    const view = snapshotView(snapshot, ENDPOINT_TYPE_URL, named(...names));
    expect([...view.resources.keys()]).toEqual(expected);
  });

  it('shares one view between snapshots with the same content of the type, not with other content', () => {
    const endpoints = (ip: string) => ['a', 'b', 'c'].map((n) => buildClusterLoadAssignment(n, [`${ip}:80`]));
    const other = createSnapshot({
      [ENDPOINT_TYPE_URL]: endpoints('10.0.0.1'),
      [CLUSTER_TYPE_URL]: [buildCluster('a')],
    });
    const moved = createSnapshot({ [ENDPOINT_TYPE_URL]: endpoints('10.0.0.2') });
    const view = snapshotView(snapshot, ENDPOINT_TYPE_URL, named('a', 'b'));
    expect(snapshotView(other, ENDPOINT_TYPE_URL, named('b', 'a'))).toBe(view);
    expect(snapshotView(moved, ENDPOINT_TYPE_URL, named('a', 'b'))).not.toBe(view);
    expect(snapshotView(moved, ENDPOINT_TYPE_URL, named('a', 'b')).version).not.toBe(view.version);
  });

  it('gives a wildcard view the snapshot version', () => {
    expect(snapshotView(snapshot, ENDPOINT_TYPE_URL, named('*')).version).toBe(
      snapshot.version(ENDPOINT_TYPE_URL),
    );
  });

  it('serializes pre-encoded resources into a response any client decodes', () => {
    const view = snapshotView(snapshot, ENDPOINT_TYPE_URL, named('b', 'c'));
    const method = ADS_SERVICE_DEFINITION.StreamAggregatedResources;
    const response: DiscoveryResponse = {
      versionInfo: view.version,
      typeUrl: ENDPOINT_TYPE_URL,
      nonce: '7',
      resources: [],
      encodedResources: view.encodedResources,
    };
    const decoded = method.responseDeserialize(method.responseSerialize(response));
    expect(decoded.nonce).toBe('7');
    expect(decoded.versionInfo).toBe(view.version);
    expect(decoded.resources.map((any) => decodeResource(ENDPOINT_TYPE_URL, any.value).clusterName)).toEqual([
      'b',
      'c',
    ]);
  });
});
