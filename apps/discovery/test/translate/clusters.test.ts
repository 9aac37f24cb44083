/**
 * Clusters, endpoints and scoping: DestinationRule policies on the clusters
 * a request lands on, EDS health and locality, Sidecar egress scoping,
 * DestinationRule precedence, TCP routing, and the inbound side.
 */
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { generateResources } from '../../src/translate/index.ts';
import {
  docs,
  generate,
  head,
  istio,
  push,
  routeAction,
  serviceYaml,
  sidecar,
  simulate,
  workloadEntryYaml,
} from './builders.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';
const reviews = serviceYaml({ name: 'reviews', workloads: { v1: '127.0.0.4', v2: '127.0.0.5' } });

function clusterBody(yaml: string, name: string, proxy = sidecar()) {
  return generate(yaml, proxy).resources[CLUSTER_TYPE_URL]?.find((c) => c.name === name)?.body;
}

function destinationRule(trafficPolicy: string, extra = ''): string {
  return `${head('DestinationRule', 'reviews')}
  host: reviews
  trafficPolicy:
${trafficPolicy}
${extra}`;
}

describe('DestinationRule traffic policy -> cluster', () => {
  it('gives Istio defaults without a DestinationRule', () => {
    expect(clusterBody(reviews, `outbound|9080||${REVIEWS}`)).toMatchObject({
      type: 'EDS',
      edsClusterConfig: {
        edsConfig: { ads: {}, resourceApiVersion: 'V3' },
        serviceName: `outbound|9080||${REVIEWS}`,
      },
      lbPolicy: 'LEAST_REQUEST',
      connectTimeout: { seconds: 10 },
      circuitBreakers: {
        thresholds: [{ maxConnections: { value: 4_294_967_295 }, maxRequests: { value: 4_294_967_295 } }],
      },
    });
  });

  it.each([
    ['ROUND_ROBIN', '    loadBalancer: { simple: ROUND_ROBIN }', { lbPolicy: 'ROUND_ROBIN' }],
    ['LEAST_CONN', '    loadBalancer: { simple: LEAST_CONN }', { lbPolicy: 'LEAST_REQUEST' }],
    ['RANDOM', '    loadBalancer: { simple: RANDOM }', { lbPolicy: 'RANDOM' }],
    [
      'PASSTHROUGH',
      '    loadBalancer: { simple: PASSTHROUGH }',
      { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' },
    ],
    [
      'consistent hash',
      '    loadBalancer: { consistentHash: { httpHeaderName: x-user, ringHash: { minimumRingSize: 2048 } } }',
      { lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: { value: 2048 } } },
    ],
    [
      'maglev',
      '    loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } }',
      { lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: { value: 65537 } } },
    ],
    [
      'connection pool',
      '    connectionPool:\n      tcp: { maxConnections: 10, connectTimeout: 250ms }\n      http: { http1MaxPendingRequests: 1, http2MaxRequests: 20, maxRetries: 2, maxRequestsPerConnection: 1, idleTimeout: 5s }',
      {
        connectTimeout: { seconds: 0, nanos: 250_000_000 },
        circuitBreakers: {
          thresholds: [
            {
              maxConnections: { value: 10 },
              maxPendingRequests: { value: 1 },
              maxRequests: { value: 20 },
              maxRetries: { value: 2 },
              trackRemaining: true,
            },
          ],
        },
        typedExtensionProtocolOptions: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            commonHttpProtocolOptions: {
              idleTimeout: { seconds: 5 },
              maxRequestsPerConnection: { value: 1 },
            },
            explicitHttpConfig: { httpProtocolOptions: {} },
          },
        },
      },
    ],
    [
      'outlier detection',
      '    outlierDetection: { consecutive5xxErrors: 7, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 100, minHealthPercent: 30 }',
      {
        outlierDetection: {
          consecutive_5xx: { value: 7 },
          enforcingConsecutive_5xx: { value: 100 },
          enforcingSuccessRate: { value: 0 },
          interval: { seconds: 300 },
          baseEjectionTime: { seconds: 900 },
          maxEjectionPercent: { value: 100 },
        },
        commonLbConfig: { healthyPanicThreshold: { value: 30 } },
      },
    ],
    [
      'TLS SIMPLE',
      '    tls: { mode: SIMPLE, caCertificates: /etc/ca.pem, sni: reviews.example, subjectAltNames: [reviews.example] }',
      {
        transportSocket: {
          name: 'envoy.transport_sockets.tls',
          typedConfig: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            sni: 'reviews.example',
            commonTlsContext: {
              validationContext: {
                trustedCa: { filename: '/etc/ca.pem' },
                matchTypedSubjectAltNames: [{ sanType: 'DNS', matcher: { exact: 'reviews.example' } }],
              },
            },
          },
        },
      },
    ],
  ])('%s', (_name, policy, expected) => {
    expect(clusterBody(docs(reviews, destinationRule(policy)), `outbound|9080||${REVIEWS}`)).toMatchObject(
      expected,
    );
  });

  it('user TLS (SIMPLE) replaces auto mTLS: no transport socket matches', () => {
    const body = clusterBody(
      docs(reviews, destinationRule('    tls: { mode: SIMPLE, caCertificates: /etc/ca.pem }')),
      `outbound|9080||${REVIEWS}`,
    );
    expect(body?.transportSocketMatches).toBeUndefined();
    expect(body?.transportSocket).toMatchObject({ name: 'envoy.transport_sockets.tls' });
  });

  it('lets a subset override the top-level policy and port-level settings win for their port', () => {
    const rule = destinationRule(
      '    loadBalancer: { simple: ROUND_ROBIN }\n    portLevelSettings:\n    - { port: { number: 9080 }, loadBalancer: { simple: RANDOM } }',
      '  subsets:\n  - { name: v1, labels: { version: v1 }, trafficPolicy: { connectionPool: { tcp: { maxConnections: 3 } } } }\n  - { name: v2, labels: { version: v2 }, trafficPolicy: { loadBalancer: { simple: LEAST_REQUEST } } }',
    );
    const yaml = docs(reviews, rule);
    expect(clusterBody(yaml, `outbound|9080||${REVIEWS}`)?.lbPolicy).toBe('RANDOM');
    expect(clusterBody(yaml, `outbound|9080|v1|${REVIEWS}`)).toMatchObject({
      lbPolicy: 'RANDOM',
      circuitBreakers: { thresholds: [{ maxConnections: { value: 3 } }] },
    });
    expect(clusterBody(yaml, `outbound|9080|v2|${REVIEWS}`)?.lbPolicy).toBe('LEAST_REQUEST');
  });

  it('adds the consistent-hash policy to routes that go to the cluster', () => {
    const yaml = docs(
      reviews,
      destinationRule('    loadBalancer: { consistentHash: { httpCookie: { name: user, ttl: 0s } } }'),
    );
    const result = simulate(yaml, { port: 9080, authority: 'reviews' });
    expect(routeAction(result).hashPolicy).toEqual([{ cookie: { name: 'user', ttl: { seconds: 0 } } }]);
  });
});

describe('DestinationRule precedence', () => {
  const ruleIn = (
    namespace: string,
    lb: string,
  ) => `${head('DestinationRule', `reviews-${namespace}`, namespace)}
  host: ${REVIEWS}
  trafficPolicy: { loadBalancer: { simple: ${lb} } }`;

  it.each([
    [
      'the proxy namespace first',
      [ruleIn('client', 'RANDOM'), ruleIn('default', 'ROUND_ROBIN'), ruleIn('istio-system', 'LEAST_REQUEST')],
      'RANDOM',
    ],
    [
      'then the service namespace',
      [ruleIn('default', 'ROUND_ROBIN'), ruleIn('istio-system', 'RANDOM')],
      'ROUND_ROBIN',
    ],
    ['then the root namespace', [ruleIn('istio-system', 'RANDOM')], 'RANDOM'],
  ])('%s', (_name, rules, lbPolicy) => {
    expect(
      clusterBody(docs(reviews, ...rules), `outbound|9080||${REVIEWS}`, sidecar({ namespace: 'client' }))
        ?.lbPolicy,
    ).toBe(lbPolicy);
  });
});

describe('EDS', () => {
  it('carries health, weight and locality of each workload', () => {
    const yaml = docs(
      reviews,
      workloadEntryYaml(
        'reviews-eu',
        'address: 127.0.0.8, labels: { app: reviews, version: v1 }, locality: eu-west1/a, weight: 5',
      ),
    );
    const cla = generate(yaml).resources[ENDPOINT_TYPE_URL]?.find(
      (r) => r.name === `outbound|9080||${REVIEWS}`,
    )?.body;
    const endpoint = (address: string, weight: number, workload: string, version = 'v1', mtls = true) => ({
      endpoint: { address: { socketAddress: { address, portValue: 9080 } } },
      healthStatus: 'HEALTHY',
      loadBalancingWeight: { value: weight },
      metadata: {
        filterMetadata: {
          // A WorkloadEntry that names a serviceAccount accepts mesh mTLS; one without is plaintext.
          ...(mtls ? { 'envoy.transport_socket_match': { tlsMode: 'istio' } } : {}),
          // Istio's telemetry metadata: name;namespace;canonical service;revision;cluster.
          istio: { workload: `${workload};default;reviews;${version};Kubernetes` },
        },
      },
    });
    expect(cla).toEqual({
      clusterName: `outbound|9080||${REVIEWS}`,
      endpoints: [
        {
          locality: {},
          lbEndpoints: [endpoint('127.0.0.4', 1, 'reviews-v1'), endpoint('127.0.0.5', 1, 'reviews-v2', 'v2')],
          loadBalancingWeight: { value: 2 },
        },
        {
          locality: { region: 'eu-west1', zone: 'a' },
          lbEndpoints: [endpoint('127.0.0.8', 5, 'reviews-eu', 'v1', false)],
          loadBalancingWeight: { value: 5 },
        },
      ],
    });
  });

  it('leaves endpoints without an IP address out of EDS, with a warning', () => {
    const yaml = docs(
      reviews,
      workloadEntryYaml(
        'reviews-vm',
        'address: reviews-vm.example.internal, labels: { app: reviews, version: v1 }',
      ),
    );
    const generated = generate(yaml);
    const cla = generated.resources[ENDPOINT_TYPE_URL]?.find(
      (r) => r.name === `outbound|9080||${REVIEWS}`,
    )?.body;
    expect(JSON.stringify(cla)).not.toContain('reviews-vm.example.internal');
    expect(generated.warnings).toContain(
      `outbound|9080||${REVIEWS}: endpoint default/reviews-vm address "reviews-vm.example.internal" is not an IP address; left out of EDS`,
    );
  });

  it('uses the workload port from the WorkloadEntry port map', () => {
    const yaml = docs(
      serviceYaml({
        name: 'api',
        ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 }],
        workloads: {},
      }),
      workloadEntryYaml('api-1', 'address: 127.0.0.9, labels: { app: api }, ports: { http: 18080 }'),
    );
    expect(simulate(yaml, { port: 80, authority: 'api' }).endpoint).toBe('127.0.0.9:18080');
  });
});

describe('Sidecar egress scoping', () => {
  const other = serviceYaml({ name: 'billing', namespace: 'finance', workloads: { v1: '127.0.1.2' } });
  const scoped = `${head('Sidecar', 'default')}
  egress:
  - hosts: ["./*", "istio-system/*"]`;

  it('drops clusters and virtual hosts of services outside the egress hosts', () => {
    const names =
      generate(docs(reviews, other, scoped)).resources[CLUSTER_TYPE_URL]?.map((c) => c.name) ?? [];
    expect(names).toContain(`outbound|9080||${REVIEWS}`);
    expect(names).not.toContain('outbound|9080||billing.finance.svc.cluster.local');
  });

  it.each([
    ['an in-scope service is routed', 'reviews', { cluster: `outbound|9080||${REVIEWS}` }],
    [
      'an out-of-scope service falls to the catch-all',
      'billing.finance.svc.cluster.local',
      { virtualHost: 'allow_any', cluster: 'PassthroughCluster' },
    ],
  ])('%s', (_name, authority, expected) => {
    expect(simulate(docs(reviews, other, scoped), { port: 9080, authority })).toMatchObject(expected);
  });

  it('narrows services to the port of a port-scoped egress listener', () => {
    const multi = serviceYaml({
      name: 'api',
      ports: [
        { number: 8080, name: 'http', protocol: 'HTTP' },
        { number: 9090, name: 'http-admin', protocol: 'HTTP' },
      ],
      workloads: { v1: '127.0.4.2' },
    });
    const portScoped = `${head('Sidecar', 'default')}
  egress:
  - port: { number: 8080, name: http, protocol: HTTP }
    hosts: ["./*"]`;
    const names = generate(docs(multi, portScoped)).resources[CLUSTER_TYPE_URL]?.map((c) => c.name) ?? [];
    expect(names).toContain('outbound|8080||api.default.svc.cluster.local');
    expect(names).not.toContain('outbound|9090||api.default.svc.cluster.local');
    expect(simulate(docs(multi, portScoped), { port: 9090, authority: 'api:9090' })).toMatchObject({
      listener: 'virtualOutbound',
      cluster: 'PassthroughCluster',
    });
  });

  it('sees everything without a Sidecar', () => {
    expect(
      simulate(docs(reviews, other), { port: 9080, authority: 'billing.finance.svc.cluster.local' }).cluster,
    ).toBe('outbound|9080||billing.finance.svc.cluster.local');
  });

  it('hides services exported only to their own namespace', () => {
    const privateSvc = serviceYaml({
      name: 'vault',
      namespace: 'secure',
      exportTo: ['.'],
      workloads: { v1: '127.0.2.2' },
    });
    const names = generate(docs(reviews, privateSvc)).resources[CLUSTER_TYPE_URL]?.map((c) => c.name) ?? [];
    expect(names.some((n) => n.includes('vault'))).toBe(false);
  });
});

describe('TCP services', () => {
  const db = serviceYaml({
    name: 'db',
    ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }],
    addresses: ['240.0.0.5'],
    workloads: { v1: '127.0.3.2', v2: '127.0.3.3' },
  });

  it('gets a VIP_PORT listener that proxies to the service cluster', () => {
    expect(simulate(db, { port: 5432, destinationAddress: '240.0.0.5' })).toMatchObject({
      listener: '240.0.0.5_5432',
      cluster: 'outbound|5432||db.default.svc.cluster.local',
      endpoint: '127.0.3.2:5432',
    });
  });

  it('follows VirtualService tcp routes with weights', () => {
    const yaml = docs(
      db,
      `${head('DestinationRule', 'db')} { host: db, subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }] }
---
${head('VirtualService', 'db')}
  hosts: [db]
  tcp:
  - route:
    - { destination: { host: db, subset: v1 }, weight: 75 }
    - { destination: { host: db, subset: v2 }, weight: 25 }`,
    );
    const high = simulate(yaml, { port: 5432, destinationAddress: '240.0.0.5', pick: 0.8 });
    expect(high).toMatchObject({
      cluster: 'outbound|5432|v2|db.default.svc.cluster.local',
      endpoint: '127.0.3.3:5432',
    });
  });

  it('drops zero-weight tcp destinations (Envoy requires weights >= 1)', () => {
    const yaml = docs(
      db,
      `${head('VirtualService', 'db')}
  hosts: [db]
  tcp:
  - route:
    - { destination: { host: db, port: { number: 5432 } }, weight: 100 }
    - { destination: { host: reviews, port: { number: 9080 } }, weight: 0 }`,
    );
    const result = simulate(docs(yaml, reviews), { port: 5432, destinationAddress: '240.0.0.5' });
    expect(result.weightedClusters).toBeUndefined();
    expect(result.cluster).toBe('outbound|5432||db.default.svc.cluster.local');
  });
});

describe('HTTPS/TLS services without a VIP', () => {
  const external = (name: string, host: string) =>
    serviceYaml({
      name,
      host,
      resolution: 'DNS',
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      workloads: {},
    });
  const yaml = docs(external('api', 'api.example.com'), external('pay', 'pay.example.com'));

  it.each([
    ['api.example.com', 'outbound|443||api.example.com', 'api.example.com:443'],
    ['pay.example.com', 'outbound|443||pay.example.com', 'pay.example.com:443'],
  ])('share 0.0.0.0_443, routed by SNI %s', (sni, cluster, endpoint) => {
    expect(simulate(yaml, { port: 443, sni })).toMatchObject({ listener: '0.0.0.0_443', cluster, endpoint });
  });

  it('has no chain for an unknown SNI', () => {
    expect(simulate(yaml, { port: 443, sni: 'evil.example.com' }).error).toBe('no filter chain matched');
  });

  it('follows a VirtualService tls route', () => {
    const vs = `${head('VirtualService', 'api')}
  hosts: [api.example.com]
  tls:
  - match: [{ sniHosts: [api.example.com] }]
    route: [{ destination: { host: pay.example.com, port: { number: 443 } } }]`;
    expect(simulate(docs(yaml, vs), { port: 443, sni: 'api.example.com' }).cluster).toBe(
      'outbound|443||pay.example.com',
    );
  });
});

describe('inbound', () => {
  it('delivers to the workload through virtualInbound and inbound|PORT||', () => {
    const proxy = sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });
    const generated = generateResources(proxy, push(istio(reviews)));
    const inbound = generated.resources[CLUSTER_TYPE_URL]?.find((c) => c.name === 'inbound|9080||')?.body;
    expect(inbound).toMatchObject({
      type: 'STATIC',
      loadAssignment: {
        endpoints: [
          {
            lbEndpoints: [
              { endpoint: { address: { socketAddress: { address: '127.0.0.4', portValue: 9080 } } } },
            ],
          },
        ],
      },
    });
    expect(
      simulate(reviews, { port: 9080, direction: 'inbound', authority: 'anything' }, proxy),
    ).toMatchObject({
      listener: 'virtualInbound',
      filterChain: 'inbound|9080||',
      routeConfig: 'inbound|9080||',
      cluster: 'inbound|9080||',
      endpoint: '127.0.0.4:9080',
    });
  });

  it('in local mode binds inbound_IP_PORT on the workload address and delivers to LOCAL_APP_ADDRESS', () => {
    const base = sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });
    const proxy = {
      ...base,
      metadata: { ...base.metadata, INTERCEPTION_MODE: 'NONE', LOCAL_APP_ADDRESS: '127.0.1.4' },
    };
    const listeners = generateResources(proxy, push(istio(reviews))).resources[LISTENER_TYPE_URL] ?? [];
    expect(listeners.find((l) => l.name === 'inbound_127.0.0.4_9080')?.body).toMatchObject({
      address: { socketAddress: { address: '127.0.0.4', portValue: 9080 } },
      trafficDirection: 'INBOUND',
    });
    const capture = listeners.filter((l) => l.name === 'virtualOutbound' || l.name === 'virtualInbound');
    expect(capture.map((l) => [l.name, l.body.bindToPort])).toEqual([
      ['virtualOutbound', { value: false }],
      ['virtualInbound', { value: false }],
    ]);
    expect(
      simulate(
        reviews,
        { port: 9080, direction: 'inbound', destinationAddress: '127.0.0.4', authority: 'reviews:9080' },
        proxy,
      ),
    ).toMatchObject({
      listener: 'inbound_127.0.0.4_9080',
      filterChain: 'inbound|9080||',
      cluster: 'inbound|9080||',
      endpoint: '127.0.1.4:9080',
    });
  });

  it.each([
    {
      name: 'capture (REDIRECT)',
      metadata: { INTERCEPTION_MODE: 'REDIRECT', LOCAL_APP_ADDRESS: '127.0.1.4' },
    },
    { name: 'no LOCAL_APP_ADDRESS', metadata: { INTERCEPTION_MODE: 'NONE' } },
  ])('has no local inbound listeners under $name', ({ metadata }) => {
    const base = sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });
    const proxy = { ...base, metadata: { ...base.metadata, ...metadata } };
    const names = (generateResources(proxy, push(istio(reviews))).resources[LISTENER_TYPE_URL] ?? []).map(
      (l) => l.name,
    );
    expect(names.filter((n) => n.startsWith('inbound_'))).toEqual([]);
    expect(simulate(reviews, { port: 9080, direction: 'inbound', authority: 'x' }, proxy).endpoint).toBe(
      '127.0.0.4:9080',
    );
  });

  it.each([
    {
      name: 'capture (REDIRECT)',
      mode: 'REDIRECT',
      bind: { sourceAddress: { address: '127.0.0.6', portValue: 0 } },
    },
    { name: 'local mode (NONE)', mode: 'NONE', bind: undefined },
  ])('inbound clusters under $name bind the source Istio exempts from capture', ({ mode, bind }) => {
    const base = sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });
    const proxy = { ...base, metadata: { ...base.metadata, INTERCEPTION_MODE: mode } };
    const clusters = generateResources(proxy, push(istio(reviews))).resources[CLUSTER_TYPE_URL] ?? [];
    for (const name of ['inbound|9080||', 'InboundPassthroughClusterIpv4']) {
      expect(clusters.find((c) => c.name === name)?.body.upstreamBindConfig, name).toEqual(bind);
    }
    const outbound = clusters.find((c) => c.name === 'outbound|9080||reviews.default.svc.cluster.local');
    expect(outbound?.body.upstreamBindConfig).toBeUndefined();
  });

  it('passes traffic for undeclared ports through', () => {
    const proxy = sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });
    expect(simulate(reviews, { port: 7777, direction: 'inbound' }, proxy)).toMatchObject({
      filterChain: 'InboundPassthroughFilterChain',
      cluster: 'InboundPassthroughClusterIpv4',
    });
  });

  it('has no inbound chains for a proxy that serves nothing', () => {
    const listener = generate(reviews).resources[LISTENER_TYPE_URL]?.find(
      (l) => l.name === 'virtualInbound',
    )?.body;
    expect(listener?.filterChains).toEqual([]);
  });
});
