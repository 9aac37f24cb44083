/**
 * proxyViewKey (proxies with equal keys get identical resources), purity of
 * generation, and locality-aware EDS priorities.
 */
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { parseProxy } from '../../src/model/index.ts';
import { generateResources, proxyViewKey } from '../../src/translate/index.ts';
import { docs, head, istio, proxyless, push, serviceYaml, sidecar, workloadEntryYaml } from './builders.ts';

const mesh = docs(
  serviceYaml({ name: 'reviews', workloads: { v1: '127.0.0.4', v2: '127.0.0.5' } }),
  serviceYaml({ name: 'ratings', workloads: { v1: '127.0.0.7' } }),
  `${head('VirtualService', 'reviews')}
  hosts: [reviews]
  http:
  - match: [{ sourceLabels: { track: canary } }]
    route: [{ destination: { host: reviews } }]
  - route: [{ destination: { host: ratings } }]`,
);

describe('proxyViewKey', () => {
  const context = push(istio(mesh));

  it.each([
    [
      'two clients that serve nothing, same labels',
      sidecar({ ip: '127.0.1.1', name: 'a' }),
      sidecar({ ip: '127.0.1.2', name: 'b' }),
      true,
    ],
    [
      'different labels',
      sidecar({ labels: { app: 'client' } }),
      sidecar({ labels: { app: 'client', track: 'canary' } }),
      false,
    ],
    ['different namespaces', sidecar({ namespace: 'default' }), sidecar({ namespace: 'other' }), false],
    ['a sidecar and a proxyless client', sidecar(), proxyless(), false],
    [
      'two replicas serving the same ports at different addresses',
      sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews' } }),
      sidecar({ ip: '127.0.0.5', name: 'reviews-v2', labels: { app: 'reviews' } }),
      false,
    ],
  ])('%s: equal keys %s', (_name, a, b, equal) => {
    expect(proxyViewKey(a, context) === proxyViewKey(b, context)).toBe(equal);
  });

  it('gives proxies with equal keys equal resources', () => {
    const a = sidecar({ ip: '127.0.1.1', name: 'a' });
    const b = sidecar({ ip: '127.0.1.2', name: 'b' });
    expect(proxyViewKey(a, context)).toBe(proxyViewKey(b, context));
    expect(JSON.stringify(generateResources(a, context))).toBe(JSON.stringify(generateResources(b, context)));
  });

  it('is a pure function: the same inputs give the same output', () => {
    const proxy = sidecar();
    expect(JSON.stringify(generateResources(proxy, context))).toBe(
      JSON.stringify(generateResources(proxy, push(istio(mesh)))),
    );
  });
});

describe('outbound sharing between sidecars', () => {
  const context = push(istio(mesh));
  const resources = (proxy: ReturnType<typeof sidecar>) => generateResources(proxy, context).resources;
  const routesOf = (proxy: ReturnType<typeof sidecar>) => resources(proxy)[ROUTE_TYPE_URL] ?? [];

  it('gives two sidecars of one namespace the same outbound Resource objects and their own inbound side', () => {
    const a = resources(sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews' } }));
    const b = resources(sidecar({ ip: '127.0.0.5', name: 'reviews-v2', labels: { app: 'reviews' } }));
    expect(b[ENDPOINT_TYPE_URL]).toBe(a[ENDPOINT_TYPE_URL]);
    expect(b[ROUTE_TYPE_URL]).toBe(a[ROUTE_TYPE_URL]);
    const outbound = (list: readonly { name: string }[] | undefined) =>
      (list ?? []).filter((r) => !/^inbound/i.test(r.name) && r.name !== 'virtualInbound');
    expect(outbound(b[CLUSTER_TYPE_URL]).every((r, i) => r === outbound(a[CLUSTER_TYPE_URL])[i])).toBe(true);
    expect(outbound(b[LISTENER_TYPE_URL]).every((r, i) => r === outbound(a[LISTENER_TYPE_URL])[i])).toBe(
      true,
    );
    const fresh = generateResources(
      sidecar({ ip: '127.0.0.5', name: 'reviews-v2', labels: { app: 'reviews' } }),
      push(istio(mesh)),
    ).resources;
    expect(JSON.stringify(b)).toBe(JSON.stringify(fresh));
  });

  it.each([
    ['labels a sourceLabels match selects', { app: 'client', track: 'canary' }, false],
    ['labels no sourceLabels match selects', { app: 'other' }, true],
  ])('with %s, routes are shared with a plain client: %s', (_name, labels, shared) => {
    const plain = routesOf(sidecar({ labels: { app: 'client' } }));
    const other = routesOf(sidecar({ ip: '127.0.1.9', name: 'x', labels }));
    expect(other === plain).toBe(shared);
    if (!shared) expect(JSON.stringify(other)).not.toBe(JSON.stringify(plain));
  });

  it('builds the same resources as a fresh push context (no state leaks between pushes)', () => {
    const proxy = sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews' } });
    resources(sidecar({ ip: '127.0.1.1', name: 'first' }));
    expect(JSON.stringify(resources(proxy))).toBe(
      JSON.stringify(generateResources(proxy, push(istio(mesh))).resources),
    );
  });
});

describe('locality load balancing', () => {
  const workloads = [
    ['near', '127.0.0.11', 'us-east/a/1'],
    ['zone', '127.0.0.12', 'us-east/a/2'],
    ['region', '127.0.0.13', 'us-east/b'],
    ['far', '127.0.0.14', 'eu-west/a'],
    ['farther', '127.0.0.15', 'ap-south/a'],
  ].map(([name, address, locality]) =>
    workloadEntryYaml(
      `reviews-${name}`,
      `address: ${address}, locality: ${locality}, labels: { app: reviews }`,
    ),
  );
  const withPolicy = (trafficPolicy: string) =>
    docs(
      serviceYaml({ name: 'reviews', workloads: {} }),
      ...workloads,
      `${head('DestinationRule', 'reviews')}
  host: reviews
  trafficPolicy: ${trafficPolicy}`,
    );
  const outlier = '{ outlierDetection: { consecutive5xxErrors: 3 } }';
  const usEastA1 = { region: 'us-east', zone: 'a', subZone: '1' };

  /** [priority, locality weight, addresses] per LocalityLbEndpoints. */
  function groups(trafficPolicy: string, locality?: { region: string; zone: string; subZone: string }) {
    const parsed = parseProxy({
      id: 'sidecar~127.0.1.1~client.default~default.svc.cluster.local',
      metadata: { NAMESPACE: 'default' },
      ...(locality ? { locality } : {}),
    });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const resources = generateResources(parsed.proxy, push(istio(withPolicy(trafficPolicy)))).resources;
    const cla = resources[ENDPOINT_TYPE_URL]?.[0]?.body;
    return (
      (cla?.endpoints ?? []) as {
        priority?: number;
        loadBalancingWeight: { value: number };
        lbEndpoints: { endpoint: { address: { socketAddress: { address: string } } } }[];
      }[]
    ).map((group) => [
      group.priority ?? 0,
      group.loadBalancingWeight.value,
      group.lbEndpoints.map((e) => e.endpoint.address.socketAddress.address).join(','),
    ]);
  }

  it('orders endpoints by proximity to the proxy when outlier detection is on', () => {
    expect(groups(outlier, usEastA1).map(([p, , a]) => [p, a])).toEqual([
      [0, '127.0.0.11'],
      [1, '127.0.0.12'],
      [2, '127.0.0.13'],
      [3, '127.0.0.15'],
      [3, '127.0.0.14'],
    ]);
  });

  it('fails over to the region a failover rule names before other regions', () => {
    const policy =
      '{ outlierDetection: { consecutive5xxErrors: 3 }, loadBalancer: { localityLbSetting: { failover: [{ from: us-east, to: eu-west }] } } }';
    expect(groups(policy, usEastA1).map(([p, , a]) => [p, a])).toEqual([
      [0, '127.0.0.11'],
      [1, '127.0.0.12'],
      [2, '127.0.0.13'],
      [3, '127.0.0.14'],
      [4, '127.0.0.15'],
    ]);
  });

  it('keeps priorities contiguous when a level is empty', () => {
    expect(groups(outlier, { region: 'eu-west', zone: 'a', subZone: '' }).map(([p]) => p)).toEqual([
      0, 1, 1, 1, 1,
    ]);
  });

  it.each([
    ['a proxy without locality', outlier, undefined],
    ['no outlier detection', '{ loadBalancer: { simple: ROUND_ROBIN } }', usEastA1],
    [
      'localityLbSetting disabled',
      '{ outlierDetection: { consecutive5xxErrors: 3 }, loadBalancer: { localityLbSetting: { enabled: false } } }',
      usEastA1,
    ],
  ])('puts everything in priority 0 for %s', (_name, policy, locality) => {
    expect(groups(policy, locality).map(([p]) => p)).toEqual([0, 0, 0, 0, 0]);
  });

  it('distributes by locality weights and drops localities no rule names', () => {
    const policy = `{ loadBalancer: { localityLbSetting: { distribute: [{ from: "us-east/a/*", to: { "us-east/a/*": 80, "eu-west/*": 20 } }] } } }`;
    expect(groups(policy, usEastA1)).toEqual([
      [0, 20, '127.0.0.14'],
      [0, 40, '127.0.0.11'],
      [0, 40, '127.0.0.12'],
    ]);
  });
});
