import { describe, expect, it } from 'vitest';
import {
  buildCluster,
  buildClusterLoadAssignment,
  buildListener,
  buildRouteConfiguration,
  buildSecret,
} from '../testing/resource-builders.ts';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  SECRET_TYPE_URL,
} from '../type-urls.ts';
import { createSnapshot, SnapshotError } from './snapshot.ts';

const consistent = () => ({
  [CLUSTER_TYPE_URL]: [buildCluster('a'), buildCluster('b', { edsClusterConfig: { serviceName: 'b-eds' } })],
  [ENDPOINT_TYPE_URL]: [
    buildClusterLoadAssignment('a', ['10.0.0.1:80']),
    buildClusterLoadAssignment('b-eds', []),
  ],
  [LISTENER_TYPE_URL]: [buildListener('l', '80')],
  [ROUTE_TYPE_URL]: [buildRouteConfiguration('80', 'a')],
});

const tlsCluster = buildCluster('mtls', {
  type: 'STATIC',
  edsClusterConfig: undefined,
  transportSocket: {
    name: 'envoy.transport_sockets.tls',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: { ads: {} } }],
        validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: { ads: {} } },
      },
    },
  },
});

describe('createSnapshot', () => {
  it('gives equal content equal versions, and changed content a new version', () => {
    const one = createSnapshot(consistent());
    const two = createSnapshot(consistent());
    for (const typeUrl of [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL] as const) {
      expect(two.version(typeUrl)).toBe(one.version(typeUrl));
      expect(one.version(typeUrl)).not.toBe('');
    }
    const changed = createSnapshot({
      ...consistent(),
      [ENDPOINT_TYPE_URL]: [buildClusterLoadAssignment('a', ['10.0.0.9:80'])],
    });
    expect(changed.version(ENDPOINT_TYPE_URL)).not.toBe(one.version(ENDPOINT_TYPE_URL));
    expect(changed.version(CLUSTER_TYPE_URL)).toBe(one.version(CLUSTER_TYPE_URL));
    expect(one.version(SECRET_TYPE_URL)).toBe('');
  });

  it('indexes a list object shared by several snapshots once, and still checks a list given under another type', () => {
    const endpoints = consistent()[ENDPOINT_TYPE_URL];
    const a = createSnapshot({ [ENDPOINT_TYPE_URL]: endpoints, [CLUSTER_TYPE_URL]: [buildCluster('a')] });
    const b = createSnapshot({ [ENDPOINT_TYPE_URL]: endpoints });
    expect(b.resources(ENDPOINT_TYPE_URL)).toBe(a.resources(ENDPOINT_TYPE_URL));
    expect(b.version(ENDPOINT_TYPE_URL)).toBe(a.version(ENDPOINT_TYPE_URL));
    expect(() => createSnapshot({ [CLUSTER_TYPE_URL]: endpoints })).toThrow(SnapshotError);
  });

  it('looks resources up by name with their content versions', () => {
    const snapshot = createSnapshot(consistent());
    expect([...snapshot.resources(CLUSTER_TYPE_URL).keys()]).toEqual(['a', 'b']);
    expect(snapshot.resourceVersion(CLUSTER_TYPE_URL, 'a')).toMatch(/^[\w-]{16}$/);
    expect(snapshot.resourceVersion(CLUSTER_TYPE_URL, 'nope')).toBeUndefined();
    expect(snapshot.resources(SECRET_TYPE_URL).size).toBe(0);
  });

  it.each([
    [
      'duplicate names',
      { [CLUSTER_TYPE_URL]: [buildCluster('a'), buildCluster('a')] },
      /duplicate CDS resource "a"/,
    ],
    ['a resource under the wrong type', { [ROUTE_TYPE_URL]: [buildCluster('a')] }, /listed under/],
  ])('refuses %s', (_name, resources, message) => {
    expect(() => createSnapshot(resources)).toThrow(SnapshotError);
    expect(() => createSnapshot(resources)).toThrow(message);
  });
});

describe('Snapshot.consistencyCheck', () => {
  it.each([
    ['a consistent snapshot', consistent(), []],
    [
      'an EDS cluster without its ClusterLoadAssignment',
      { ...consistent(), [ENDPOINT_TYPE_URL]: [buildClusterLoadAssignment('a', [])] },
      ['CDS "b" refers to EDS "b-eds", which is missing'],
    ],
    [
      'a listener without its RouteConfiguration',
      { ...consistent(), [ROUTE_TYPE_URL]: [] },
      ['LDS "l" refers to RDS "80", which is missing'],
    ],
    [
      'SDS secrets that are missing',
      { [CLUSTER_TYPE_URL]: [tlsCluster], [SECRET_TYPE_URL]: [buildSecret('ROOTCA')] },
      ['CDS "mtls" refers to SDS "default", which is missing'],
    ],
  ])('reports %s', (_name, resources, problems) => {
    expect(createSnapshot(resources).consistencyCheck()).toEqual(problems);
  });
});
