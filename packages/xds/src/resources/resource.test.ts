import { describe, expect, it } from 'vitest';
import {
  buildCluster,
  buildClusterLoadAssignment,
  buildListener,
  buildRouteConfiguration,
  buildSecret,
} from '../testing/resource-builders.ts';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../type-urls.ts';
import {
  decodeResource,
  encodeResource,
  InvalidResourceError,
  type Resource,
  resourceVersion,
  validateResource,
} from './resource.ts';
import { resourceToJson } from './resource-json.ts';

const withBody = (resource: Resource, body: Record<string, unknown>): Resource => ({ ...resource, body });

describe('encodeResource / decodeResource', () => {
  it.each([
    ['listener with nested Any (HCM -> Router)', buildListener('l1', '9080')],
    ['route configuration', buildRouteConfiguration('9080', 'outbound|9080||reviews')],
    ['EDS cluster', buildCluster('outbound|9080||reviews')],
    ['cluster load assignment', buildClusterLoadAssignment('c', ['10.0.0.1:9080', '10.0.0.2:9080'])],
    ['secret', buildSecret('ROOTCA')],
  ])('round-trips a %s', (_name, resource) => {
    const decoded = decodeResource(resource.typeUrl, encodeResource(resource));
    expect(decoded).toEqual(resource.body);
  });

  it('reads google.protobuf.Struct as plain JSON both ways', () => {
    const metadata = {
      filterMetadata: { istio: { labels: { app: 'reviews' }, ports: [9080, 'x'], on: true, none: null } },
    };
    const resource = buildCluster('c', { metadata });
    expect(decodeResource(CLUSTER_TYPE_URL, encodeResource(resource)).metadata).toEqual(metadata);
  });

  it('memoises bytes and version per Resource object', () => {
    const resource = buildCluster('c');
    expect(encodeResource(resource)).toBe(encodeResource(resource));
    const twin = buildCluster('c');
    expect(encodeResource(twin)).not.toBe(encodeResource(resource));
    expect(resourceVersion(twin)).toBe(resourceVersion(resource));
    expect(resourceVersion(buildCluster('c', { connectTimeout: { seconds: 2 } }))).not.toBe(
      resourceVersion(resource),
    );
  });

  it('refuses to encode a body with an unknown field, naming its path', () => {
    const listener = buildListener('l1', '9080');
    const body = structuredClone(listener.body) as { filterChains: { filters: { typedConfig: object }[] }[] };
    Object.assign(body.filterChains[0]?.filters[0]?.typedConfig ?? {}, { statPrefx: 'typo' });
    const bad = withBody(listener, body);
    expect(() => encodeResource(bad)).toThrow(InvalidResourceError);
    try {
      encodeResource(bad);
    } catch (error) {
      expect((error as InvalidResourceError).code).toBe('INVALID_RESOURCE');
      expect((error as InvalidResourceError).problems).toEqual([
        {
          path: 'filterChains[0].filters[0].typedConfig.statPrefx',
          message:
            'unknown field of envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        },
      ]);
    }
  });
});

describe('validateResource', () => {
  const cluster = buildCluster('c');
  it.each([
    ['a valid body', cluster.body, []],
    ['an unknown top-level field', { ...cluster.body, bogus: 1 }, ['bogus']],
    ['an unknown enum name', { ...cluster.body, lbPolicy: 'FASTEST' }, ['lbPolicy']],
    [
      'a string where a number belongs',
      { ...cluster.body, connectTimeout: { seconds: 'soon' } },
      ['connectTimeout.seconds'],
    ],
    ['an object where an array belongs', { ...cluster.body, healthChecks: {} }, ['healthChecks']],
    ['two members of one oneof', { ...cluster.body, clusterType: { name: 'x' } }, ['clusterType']],
    [
      'an Any without @type',
      { ...cluster.body, typedExtensionProtocolOptions: { x: {} } },
      ['typedExtensionProtocolOptions.x.@type'],
    ],
    [
      'an Any naming an unknown message',
      { ...cluster.body, typedExtensionProtocolOptions: { x: { '@type': 'type.googleapis.com/no.Such' } } },
      ['typedExtensionProtocolOptions.x.@type'],
    ],
    ['a body name that differs from the resource name', { ...cluster.body, name: 'other' }, ['name']],
  ])('reports %s', (_name, body, paths) => {
    const problems = validateResource(withBody(cluster, body));
    expect(problems.map((p) => p.path)).toEqual(paths);
    for (const problem of problems) expect(problem.message).not.toBe('');
  });

  it('collects every problem instead of stopping at the first', () => {
    const problems = validateResource(withBody(cluster, { ...cluster.body, a: 1, b: 2, lbPolicy: 'NOPE' }));
    expect(problems.map((p) => p.path).sort()).toEqual(['a', 'b', 'lbPolicy']);
  });
});

describe('resourceToJson', () => {
  it('prints the proto3 JSON look: @type, durations as strings, nested Any', () => {
    const json = resourceToJson(
      buildCluster('c', { connectTimeout: { seconds: 1, nanos: 500_000_000 } }),
    ) as Record<string, unknown>;
    expect(json['@type']).toBe(CLUSTER_TYPE_URL);
    expect(json.connectTimeout).toBe('1.500s');
    const listener = resourceToJson(buildListener('l1', '9080')) as {
      '@type': string;
      filterChains: {
        filters: { typedConfig: { '@type': string; httpFilters: { typedConfig: object }[] } }[];
      }[];
    };
    expect(listener['@type']).toBe(LISTENER_TYPE_URL);
    const hcm = listener.filterChains[0]?.filters[0]?.typedConfig;
    expect(hcm?.['@type']).toMatch(/HttpConnectionManager$/);
    expect(hcm?.httpFilters[0]?.typedConfig).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
    });
  });

  it('unwraps wrapper types', () => {
    const json = resourceToJson(
      buildCluster('c', { perConnectionBufferLimitBytes: { value: 32768 } }),
    ) as Record<string, unknown>;
    expect(json.perConnectionBufferLimitBytes).toBe(32768);
  });
});
