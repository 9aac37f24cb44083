import { describe, expect, it } from 'vitest';
import {
  clusterServiceHost,
  endpointWorkload,
  localWorkload,
  serviceLabels,
  UNKNOWN_WORKLOAD,
} from './workload-identity.ts';

describe('workload identity', () => {
  it('reads its own workload from node metadata', () => {
    const metadata = {
      WORKLOAD_NAME: 'reviews-v1',
      NAMESPACE: 'default',
      LABELS: { app: 'reviews', version: 'v1' },
    };
    expect(localWorkload(metadata, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews')).toEqual({
      workload: 'reviews-v1',
      namespace: 'default',
      app: 'reviews',
      version: 'v1',
      principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
    });
    expect(localWorkload({})).toEqual(UNKNOWN_WORKLOAD);
  });

  it.each([
    {
      name: "Istio's metadata",
      body: {
        metadata: { filterMetadata: { istio: { workload: 'ratings-v1;default;ratings;v1;Kubernetes' } } },
      },
      workload: 'ratings-v1',
      version: 'v1',
    },
    { name: 'no metadata', body: {}, workload: undefined, version: undefined },
    {
      name: 'a malformed value',
      body: { metadata: { filterMetadata: { istio: { workload: 42 } } } },
      workload: undefined,
      version: undefined,
    },
  ])('reads endpoint workloads from $name', ({ body, workload, version }) => {
    const read = endpointWorkload(body);
    expect(read?.workload).toBe(workload);
    expect(read?.version).toBe(version);
  });

  it.each([
    {
      host: 'reviews.default.svc.cluster.local',
      expected: { service: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' },
    },
    {
      host: 'reviews.shop.svc.cluster.local:9080',
      expected: { service: 'reviews.shop.svc.cluster.local', name: 'reviews', namespace: 'shop' },
    },
    { host: 'reviews:9080', expected: { service: 'reviews', name: 'reviews', namespace: 'default' } },
    {
      host: 'api.example.com',
      expected: { service: 'api.example.com', name: 'api.example.com', namespace: 'unknown' },
    },
  ])('labels the service $host', ({ host, expected }) => {
    expect(serviceLabels(host, 'default')).toEqual(expected);
  });

  it.each([
    {
      cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local',
      host: 'reviews.default.svc.cluster.local',
    },
    { cluster: 'inbound|9080||', host: undefined },
    { cluster: 'PassthroughCluster', host: undefined },
  ])('finds the service of cluster $cluster', ({ cluster, host }) => {
    expect(clusterServiceHost(cluster)).toBe(host);
  });
});
