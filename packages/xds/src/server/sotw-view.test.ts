import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { composeResourceList } from '../cache/resource-list.ts';
import { createSnapshot } from '../cache/snapshot.ts';
import { loadEnvoyProtos } from '../protos/envoy-protos.ts';
import { decodeResource, encodeResource } from '../resources/resource.ts';
import { buildCluster, buildClusterLoadAssignment } from '../testing/resource-builders.ts';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL } from '../type-urls.ts';
import { ADS_SERVICE_DEFINITION, type DiscoveryResponse } from '../wire/ads-wire.ts';
import { snapshotView } from './sotw-view.ts';
import { subscriptionUpdate } from './subscription.ts';

const snapshot = createSnapshot({
  [ENDPOINT_TYPE_URL]: ['a', 'b', 'c'].map((n) => buildClusterLoadAssignment(n, ['10.0.0.1:80'])),
});
const named = (...names: string[]) => subscriptionUpdate(undefined, names, false).subscription;
const wildcard = () => subscriptionUpdate(undefined, [], true).subscription;

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

describe('framed responses', () => {
  const method = ADS_SERVICE_DEFINITION.StreamAggregatedResources;
  const clusterSets = fc
    .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), fc.integer({ min: 1, max: 9 })), {
      selector: ([name]) => name,
      maxLength: 12,
    })
    .chain((entries) =>
      fc.integer({ min: 0, max: entries.length }).map((cut) => {
        const all = entries.map(([name, seconds]) => buildCluster(name, { connectTimeout: { seconds } }));
        return { shared: all.slice(0, cut), own: all.slice(cut) };
      }),
    );

  it('decode equal to the protobufjs encoding of the whole response, for any split into parts (property)', () => {
    fc.assert(
      fc.property(clusterSets, fc.stringMatching(/^[0-9]{1,4}$/), ({ shared, own }, nonce) => {
        const snapshot = createSnapshot({ [CLUSTER_TYPE_URL]: composeResourceList([shared, own]) });
        const view = snapshotView(snapshot, CLUSTER_TYPE_URL, wildcard());
        const head = { versionInfo: view.version, typeUrl: CLUSTER_TYPE_URL, nonce };
        const framed = method.responseSerialize({
          ...head,
          resources: [],
          encodedResources: view.encodedResources,
        });
        const whole = loadEnvoyProtos()
          .discoveryResponse.encode({
            ...head,
            resources: [...shared, ...own].map((r) => ({
              type_url: CLUSTER_TYPE_URL,
              value: encodeResource(r),
            })),
          })
          .finish();
        expect(method.responseDeserialize(framed)).toEqual(method.responseDeserialize(Buffer.from(whole)));
        expect(view.encodedResources.length).toBe([shared, own].filter((p) => p.length > 0).length);
      }),
    );
  });

  it('shares the encoded shared part between the views of snapshots that hold it', () => {
    const shared = ['a', 'b'].map((n) => buildCluster(n));
    const views = ['x', 'y'].map((own) =>
      snapshotView(
        createSnapshot({ [CLUSTER_TYPE_URL]: composeResourceList([shared, [buildCluster(own)]]) }),
        CLUSTER_TYPE_URL,
        wildcard(),
      ),
    );
    expect(views[0]?.encodedResources[0]).toBe(views[1]?.encodedResources[0]);
    expect(views[0]?.encodedResources[1]).not.toEqual(views[1]?.encodedResources[1]);
  });
});
