/**
 * Proxyless gRPC clients: the resources a `@grpc/grpc-js-xds` client gets
 * for `xds:///reviews.default.svc.cluster.local:9080`, simulated, and
 * checked by grpc-js-xds's own resource validators (the code that would
 * NACK them), fed the bytes @weft/xds encodes.
 */
import { CLUSTER_TYPE_URL } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { generateResources } from '../../src/translate/index.ts';
import {
  bookinfo,
  docs,
  generate,
  head,
  istio,
  proxyless,
  push,
  routeAction,
  serviceYaml,
  simulate,
} from './builders.ts';
import { largeMesh } from './large-mesh.ts';
import { grpcRejections } from './validators.ts';

const TARGET = 'reviews.default.svc.cluster.local:9080';
const reviews = serviceYaml({
  name: 'reviews',
  workloads: { v1: '127.0.0.4', v2: '127.0.0.5', v3: '127.0.0.6' },
});
const split = `${head('DestinationRule', 'reviews')}
  host: reviews
  trafficPolicy: { loadBalancer: { simple: LEAST_REQUEST } }
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v3, labels: { version: v3 } }]
---
${head('VirtualService', 'reviews')}
  hosts: [reviews]
  http:
  - name: canary
    match: [{ headers: { x-canary: { exact: "yes" } } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - name: old
    match: [{ uri: { prefix: /old } }]
    redirect: { uri: /new }
  - name: split
    retries: { attempts: 2, retryOn: unavailable }
    route:
    - { destination: { host: reviews, subset: v1 }, weight: 80 }
    - { destination: { host: reviews, subset: v3 }, weight: 20 }`;

describe('proxyless gRPC', () => {
  it(`serves an API listener and route for xds:///${TARGET}`, () => {
    const result = simulate(
      reviews,
      { port: 9080, authority: TARGET, path: '/reviews.Reviews/Get' },
      proxyless(),
    );
    expect(result).toMatchObject({
      listener: TARGET,
      routeConfig: TARGET,
      virtualHost: TARGET,
      routeName: 'default',
      cluster: 'outbound|9080||reviews.default.svc.cluster.local',
      endpoint: '127.0.0.4:9080',
    });
  });

  it.each([
    [
      'a header match',
      { headers: { 'x-canary': 'yes' } },
      { routeName: 'canary', cluster: 'outbound|9080|v3|reviews.default.svc.cluster.local' },
    ],
    [
      'the weighted split (80)',
      { pick: 0.79 },
      {
        routeName: 'split',
        cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local',
        endpoint: '127.0.0.4:9080',
      },
    ],
    [
      'the weighted split (20)',
      { pick: 0.81 },
      {
        routeName: 'split',
        cluster: 'outbound|9080|v3|reviews.default.svc.cluster.local',
        endpoint: '127.0.0.6:9080',
      },
    ],
    ['a path the redirect would take (skipped for gRPC)', { path: '/old/x' }, { routeName: 'split' }],
  ])('routes %s', (_name, request, expected) => {
    const result = simulate(
      docs(reviews, split),
      { port: 9080, authority: TARGET, path: '/svc/Method', ...request },
      proxyless(),
    );
    expect(result).toMatchObject(expected);
  });

  it('emits only what gRPC accepts and says what it had to change', () => {
    const generated = generate(docs(reviews, split), proxyless());
    expect(grpcRejections(generated.resources)).toEqual([]);
    const cluster = generated.resources[CLUSTER_TYPE_URL]?.find(
      (c) => c.name === 'outbound|9080|v1|reviews.default.svc.cluster.local',
    )?.body;
    expect(cluster?.lbPolicy).toBe('ROUND_ROBIN');
    expect(generated.warnings).toEqual([
      'DestinationRule default/reviews: loadBalancer.simple LEAST_REQUEST is not supported by proxyless gRPC; using ROUND_ROBIN',
      'VirtualService default/reviews: redirect and directResponse are not supported for proxyless gRPC; route skipped',
    ]);
  });

  it('gives retries a backoff, as gRPC requires', () => {
    const result = simulate(docs(reviews, split), { port: 9080, authority: TARGET, pick: 0 }, proxyless());
    expect(routeAction(result).retryPolicy).toEqual({
      retryOn: 'unavailable',
      numRetries: { value: 2 },
      retryBackOff: {
        baseInterval: { seconds: 0, nanos: 25_000_000 },
        maxInterval: { seconds: 0, nanos: 250_000_000 },
      },
    });
  });

  it('uses RING_HASH with XX_HASH for consistent hashing', () => {
    const rule = split.replace(
      'loadBalancer: { simple: LEAST_REQUEST }',
      'loadBalancer: { consistentHash: { httpHeaderName: x-user } }',
    );
    const generated = generate(docs(reviews, rule), proxyless());
    const cluster = generated.resources[CLUSTER_TYPE_URL]?.find(
      (c) => c.name === 'outbound|9080||reviews.default.svc.cluster.local',
    )?.body;
    expect(cluster).toMatchObject({ lbPolicy: 'RING_HASH', ringHashLbConfig: { hashFunction: 'XX_HASH' } });
    expect(grpcRejections(generated.resources)).toEqual([]);
  });

  it('is accepted by grpc-js-xds for bookinfo', async () => {
    expect(grpcRejections(generateResources(proxyless(), push(await bookinfo())).resources)).toEqual([]);
  });

  it('is accepted by grpc-js-xds for a large mesh with every policy', () => {
    expect(grpcRejections(generateResources(proxyless(), push(istio(largeMesh(30)))).resources)).toEqual([]);
  });
});
