/**
 * Mesh mTLS by simulation: Istio YAML in, then (outbound) the transport
 * socket a request's endpoint is reached with, and (inbound) the filter
 * chain a mesh or plaintext client lands on under PeerAuthentication.
 */
import { defaultMeshConfig } from '@weft/config';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { serviceEntriesFromKubernetes } from '../../src/sources/kube/kube-service-entries.ts';
import {
  type GeneratedResources,
  generateResources,
  type SimulatedInboundRequest,
  simulateInbound,
  simulateRequest,
} from '../../src/translate/index.ts';
import {
  docs,
  generate,
  head,
  proxyless,
  push,
  router,
  securityHead,
  serviceYaml,
  sidecar,
  spiffe,
  workloadEntryYaml,
} from './builders.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';
const reviews = serviceYaml({ name: 'reviews', workloads: { v1: '127.0.0.4', v2: '127.0.0.5' } });
const subsets = `${head('DestinationRule', 'reviews')}
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }`;
const reviewsV1 = () =>
  sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });

function tlsRule(mode: string): string {
  return `${head('DestinationRule', 'reviews')}
  host: reviews
  trafficPolicy: { tls: { mode: ${mode} } }`;
}

/** Every HttpConnectionManager config in the listeners, in listener and chain order. */
function hcmConfigs(resources: GeneratedResources['resources']): Record<string, unknown>[] {
  return (resources[LISTENER_TYPE_URL] ?? []).flatMap((listener) =>
    (
      (listener.body.filterChains ?? []) as {
        filters: { name: string; typedConfig: Record<string, unknown> }[];
      }[]
    )
      .flatMap((chain) => chain.filters)
      .filter((f) => f.name === 'envoy.filters.network.http_connection_manager')
      .map((f) => f.typedConfig),
  );
}

function peerAuthentication(name: string, namespace: string, spec: string): string {
  return `${securityHead('PeerAuthentication', name, namespace)}\n${spec}`;
}

describe('outbound auto mTLS', () => {
  const meshMtls = (subset: string, alpn = ['http/1.1']) => ({
    kind: 'mesh-mtls',
    match: 'tlsMode-istio',
    sni: `outbound_.9080_.${subset}_.${REVIEWS}`,
    subjectAltNames: [spiffe('reviews')],
    alpn,
  });

  it.each([
    ['a meshed service', reviews, {}, meshMtls('')],
    [
      'DestinationRule ISTIO_MUTUAL forces mTLS without matches',
      docs(reviews, tlsRule('ISTIO_MUTUAL')),
      {},
      { ...meshMtls(''), match: undefined },
    ],
    ['DestinationRule DISABLE turns it off', docs(reviews, tlsRule('DISABLE')), {}, { kind: 'plaintext' }],
    [
      'a gRPC port offers h2',
      serviceYaml({
        name: 'reviews',
        ports: [{ number: 9080, name: 'grpc', protocol: 'GRPC' }],
        workloads: { v1: '127.0.0.4' },
      }),
      {},
      meshMtls('', ['h2']),
    ],
    [
      "the destination namespace's PeerAuthentication DISABLE turns it off",
      docs(reviews, peerAuthentication('default', 'default', '  mtls: { mode: DISABLE }')),
      {},
      { kind: 'plaintext' },
    ],
  ])('%s', (_name, yaml, request, expected) => {
    const result = simulateRequest(generate(yaml).resources, {
      port: 9080,
      authority: 'reviews',
      ...request,
    });
    expect(result.endpoint).toBe('127.0.0.4:9080');
    expect(result.transportSocket).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('names the subset in the SNI of a subset cluster', () => {
    const cluster = generate(docs(reviews, subsets)).resources[CLUSTER_TYPE_URL]?.find(
      (c) => c.name === `outbound|9080|v1|${REVIEWS}`,
    )?.body as { transportSocketMatches: { transportSocket: { typedConfig: { sni: string } } }[] };
    expect(cluster.transportSocketMatches[0]?.transportSocket.typedConfig.sni).toBe(
      `outbound_.9080_.v1_.${REVIEWS}`,
    );
  });

  it('reaches meshed endpoints with mTLS and unmeshed ones in plaintext within one service', () => {
    const yaml = docs(
      reviews,
      workloadEntryYaml(
        'reviews-legacy',
        'address: 127.0.0.9, serviceAccount: legacy, labels: { app: reviews, version: v1, security.istio.io/tlsMode: disabled }',
      ),
    );
    const resources = generate(yaml).resources;
    const at = (pick: number) => simulateRequest(resources, { port: 9080, authority: 'reviews', pick });
    // Endpoints are ordered by WorkloadEntry name: reviews-legacy, reviews-v1, reviews-v2.
    expect(at(0)).toMatchObject({
      endpoint: '127.0.0.9:9080',
      transportSocket: { kind: 'plaintext', match: 'tlsMode-disabled' },
    });
    expect(at(0.99)).toMatchObject({
      endpoint: '127.0.0.5:9080',
      transportSocket: { kind: 'mesh-mtls', match: 'tlsMode-istio' },
    });
  });

  it.each([
    ['no serviceAccount and no tlsMode label: plaintext', 'labels: { app: reviews }', 'plaintext'],
    ['a serviceAccount: mTLS', 'serviceAccount: extra, labels: { app: reviews }', 'mesh-mtls'],
    [
      'the tlsMode label istio without a serviceAccount: mTLS',
      'labels: { app: reviews, security.istio.io/tlsMode: istio }',
      'mesh-mtls',
    ],
    [
      'the tlsMode label disabled wins over a serviceAccount: plaintext',
      'serviceAccount: extra, labels: { app: reviews, security.istio.io/tlsMode: disabled }',
      'plaintext',
    ],
  ])('reaches a WorkloadEntry with %s', (_name, spec, kind) => {
    const yaml = docs(reviews, workloadEntryYaml('reviews-extra', `address: 127.0.0.9, ${spec}`));
    // Endpoints are ordered by WorkloadEntry name: reviews-extra comes first.
    const result = simulateRequest(generate(yaml).resources, { port: 9080, authority: 'reviews', pick: 0 });
    expect(result.endpoint).toBe('127.0.0.9:9080');
    expect(result.transportSocket).toMatchObject({
      kind,
      match: kind === 'mesh-mtls' ? 'tlsMode-istio' : 'tlsMode-disabled',
    });
  });

  it('reaches a Kubernetes pod in plaintext unless the injector labelled it tlsMode istio', () => {
    const pod = (name: string, labels: Record<string, string>) => ({
      metadata: { name, namespace: 'default', labels: { app: 'reviews', ...labels } },
      spec: { serviceAccountName: 'reviews' },
    });
    const pods = [pod('injected', { 'security.istio.io/tlsMode': 'istio' }), pod('plain', {})];
    const entries = serviceEntriesFromKubernetes(
      {
        services: [
          {
            metadata: { name: 'reviews', namespace: 'default' },
            spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 9080 }] },
          },
        ],
        endpointSlices: [
          {
            metadata: {
              name: 'reviews-1',
              namespace: 'default',
              labels: { 'kubernetes.io/service-name': 'reviews' },
            },
            addressType: 'IPv4',
            endpoints: pods.map((p, i) => ({
              addresses: [`127.0.0.${20 + i}`],
              targetRef: { kind: 'Pod', name: p.metadata.name, namespace: 'default' },
            })),
            ports: [{ name: 'http', port: 9080 }],
          },
        ],
        pod: (_ns, name) => pods.find((p) => p.metadata.name === name),
        node: () => undefined,
        namespace: () => undefined,
      },
      defaultMeshConfig(),
    );
    const resources = generateResources(sidecar(), push(entries)).resources;
    const at = (pick: number) => simulateRequest(resources, { port: 9080, authority: 'reviews', pick });
    expect(at(0)).toMatchObject({
      endpoint: '127.0.0.20:9080',
      transportSocket: { kind: 'mesh-mtls', match: 'tlsMode-istio' },
    });
    expect(at(0.99)).toMatchObject({
      endpoint: '127.0.0.21:9080',
      transportSocket: { kind: 'plaintext', match: 'tlsMode-disabled' },
    });
  });

  it.each([
    [
      'MESH_EXTERNAL services',
      `${head('ServiceEntry', 'ext')}
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.30 }]`,
      'api.example.com',
    ],
    [
      'inline ServiceEntry endpoints (no sidecar known)',
      `${head('ServiceEntry', 'inline')}
  hosts: [inline.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.31 }]`,
      'inline.default.svc.cluster.local',
    ],
  ])('talks plaintext to %s', (_name, yaml, authority) => {
    const result = simulateRequest(generate(yaml).resources, { port: 9080, authority });
    expect(result.transportSocket?.kind).toBe('plaintext');
  });

  it('gives proxyless clients no TLS', () => {
    const clusters = generate(docs(reviews, tlsRule('ISTIO_MUTUAL')), proxyless());
    const cluster = clusters.resources[CLUSTER_TYPE_URL]?.find(
      (c) => c.name === `outbound|9080||${REVIEWS}`,
    )?.body;
    expect(cluster?.transportSocket).toBeUndefined();
    expect(cluster?.transportSocketMatches).toBeUndefined();
    expect(clusters.warnings.join('\n')).toContain('ISTIO_MUTUAL needs certificate providers');
  });

  it('uses mTLS from the ingress gateway to the mesh', () => {
    const gateway = `${head('Gateway', 'gw')}
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }]
---
${head('VirtualService', 'reviews')}
  hosts: ["*"]
  gateways: [gw]
  http: [{ route: [{ destination: { host: reviews } }] }]`;
    const result = simulateRequest(generate(docs(reviews, gateway), router()).resources, {
      port: 8080,
      authority: 'bookinfo.example',
    });
    expect(result).toMatchObject({ cluster: `outbound|9080||${REVIEWS}`, transportSocket: meshMtls('') });
  });

  it('references SDS secrets over ADS and puts no key material in xDS', () => {
    const resources = generate(
      docs(reviews, peerAuthentication('default', 'istio-system', '  mtls: { mode: STRICT }')),
      reviewsV1(),
    ).resources;
    const text = JSON.stringify(resources);
    expect(text).not.toMatch(/inlineBytes|inlineString|privateKey|filename/);
    const sds = [
      ...text.matchAll(/"name":"(default|ROOTCA)","sdsConfig":\{"ads":\{\},"resourceApiVersion":"V3"\}/g),
    ];
    expect(new Set(sds.map((m) => m[1]))).toEqual(new Set(['default', 'ROOTCA']));
  });
});

describe('inbound PeerAuthentication', () => {
  const mesh = (spec: string) => peerAuthentication('default', 'istio-system', spec);
  const namespaced = (spec: string) => peerAuthentication('default', 'default', spec);
  const workload = (spec: string) =>
    peerAuthentication('reviews', 'default', `  selector: { matchLabels: { app: reviews } }\n${spec}`);
  const MESH_CLIENT: Partial<SimulatedInboundRequest> = { peerPrincipal: spiffe('productpage') };
  const PLAINTEXT: Partial<SimulatedInboundRequest> = {};
  const http = { http: { path: '/' } };

  it.each([
    ['no policy (PERMISSIVE default): mTLS', '', 9080, MESH_CLIENT, 'allowed', 'inbound|9080||mtls'],
    ['no policy (PERMISSIVE default): plaintext', '', 9080, PLAINTEXT, 'allowed', 'inbound|9080||'],
    [
      'mesh STRICT: mTLS',
      mesh('  mtls: { mode: STRICT }'),
      9080,
      MESH_CLIENT,
      'allowed',
      'inbound|9080||mtls',
    ],
    [
      'mesh STRICT: plaintext goes nowhere',
      mesh('  mtls: { mode: STRICT }'),
      9080,
      PLAINTEXT,
      'closed',
      'inbound|9080||blackhole',
    ],
    [
      'mesh STRICT: TLS without a client certificate fails the handshake',
      mesh('  mtls: { mode: STRICT }'),
      9080,
      { tlsWithoutCertificate: true },
      'handshake-failed',
      'inbound|9080||mtls',
    ],
    [
      'mesh STRICT: a SPIFFE ID of another trust domain fails the handshake',
      mesh('  mtls: { mode: STRICT }'),
      9080,
      { peerPrincipal: 'spiffe://evil.example/ns/default/sa/productpage' },
      'handshake-failed',
      'inbound|9080||mtls',
    ],
    [
      'mesh DISABLE: plaintext',
      mesh('  mtls: { mode: DISABLE }'),
      9080,
      PLAINTEXT,
      'allowed',
      'inbound|9080||',
    ],
    [
      'namespace PERMISSIVE beats mesh STRICT',
      docs(mesh('  mtls: { mode: STRICT }'), namespaced('  mtls: { mode: PERMISSIVE }')),
      9080,
      PLAINTEXT,
      'allowed',
      'inbound|9080||',
    ],
    [
      'workload STRICT beats namespace DISABLE',
      docs(namespaced('  mtls: { mode: DISABLE }'), workload('  mtls: { mode: STRICT }')),
      9080,
      PLAINTEXT,
      'closed',
      'inbound|9080||blackhole',
    ],
    [
      'workload UNSET inherits namespace STRICT',
      docs(namespaced('  mtls: { mode: STRICT }'), workload('  mtls: { mode: UNSET }')),
      9080,
      PLAINTEXT,
      'closed',
      'inbound|9080||blackhole',
    ],
    [
      'port-level DISABLE beats workload STRICT for that port',
      docs(workload('  mtls: { mode: STRICT }\n  portLevelMtls: { "9080": { mode: DISABLE } }')),
      9080,
      PLAINTEXT,
      'allowed',
      'inbound|9080||',
    ],
    [
      'a selector that does not match is ignored',
      docs(
        mesh('  mtls: { mode: STRICT }'),
        peerAuthentication(
          'other',
          'default',
          '  selector: { matchLabels: { app: ratings } }\n  mtls: { mode: DISABLE }',
        ),
      ),
      9080,
      PLAINTEXT,
      'closed',
      'inbound|9080||blackhole',
    ],
    [
      "another namespace's policy is ignored",
      docs(peerAuthentication('default', 'other', '  mtls: { mode: STRICT }')),
      9080,
      PLAINTEXT,
      'allowed',
      'inbound|9080||',
    ],
    [
      'undeclared port, PERMISSIVE: passes through',
      '',
      7777,
      PLAINTEXT,
      'allowed',
      'InboundPassthroughFilterChain',
    ],
    [
      'undeclared port, STRICT: closed',
      mesh('  mtls: { mode: STRICT }'),
      7777,
      PLAINTEXT,
      'closed',
      'virtualInbound-blackhole',
    ],
  ])('%s', (_name, policies, port, client, outcome, chain) => {
    const resources = generate(docs(reviews, ...(policies ? [policies] : [])), reviewsV1()).resources;
    const result = simulateInbound(resources, { port, ...client, ...(port === 9080 ? http : {}) });
    expect(result).toMatchObject({ outcome, filterChain: chain });
  });

  it('detects TLS with tls_inspector and requires a mesh client certificate on the mTLS chain', () => {
    const listener = generate(reviews, reviewsV1()).resources[LISTENER_TYPE_URL]?.find(
      (l) => l.name === 'virtualInbound',
    )?.body as {
      listenerFilters: { name: string }[];
      filterChains: { name: string; transportSocket?: { typedConfig: Record<string, unknown> } }[];
    };
    expect(listener.listenerFilters.map((f) => f.name)).toEqual([
      'envoy.filters.listener.original_dst',
      'envoy.filters.listener.tls_inspector',
    ]);
    const mtls = listener.filterChains.find((c) => c.name === 'inbound|9080||mtls');
    expect(mtls?.transportSocket?.typedConfig).toMatchObject({
      requireClientCertificate: { value: true },
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [{ name: 'default' }],
        combinedValidationContext: {
          defaultValidationContext: {
            matchTypedSubjectAltNames: [{ sanType: 'URI', matcher: { prefix: 'spiffe://cluster.local/' } }],
          },
          validationContextSdsSecretConfig: { name: 'ROOTCA' },
        },
        alpnProtocols: ['h2', 'http/1.1'],
      },
    });
  });

  it.each([
    ['inbound', reviewsV1(), 'inbound_0.0.0.0_9080', 'SANITIZE_SET'],
    ['outbound', reviewsV1(), 'outbound_0.0.0.0_9080', undefined],
  ])('%s HCM x-forwarded-client-cert handling', (_name, proxy, statPrefix, expected) => {
    const hcm = hcmConfigs(generate(reviews, proxy).resources).find((c) => c.statPrefix === statPrefix);
    expect(hcm).toBeDefined();
    expect(hcm?.forwardClientCertDetails).toBe(expected);
  });
});

describe('TLS toward a DISABLE port', () => {
  const disabled = `${securityHead('PeerAuthentication', 'default', 'istio-system')}\n  mtls: { mode: DISABLE }`;

  it.each([
    ['an HTTP port: the connection manager cannot read TLS', reviews, { http: { path: '/' } }, 'closed'],
    [
      'a TCP port: the bytes go on to the application',
      serviceYaml({
        name: 'reviews',
        ports: [{ number: 9080, name: 'tcp', protocol: 'TCP' }],
        workloads: { v1: '127.0.0.4' },
      }),
      {},
      'allowed',
    ],
  ])('%s', (_name, service, request, outcome) => {
    const resources = generate(docs(service, disabled), reviewsV1()).resources;
    expect(
      simulateInbound(resources, { port: 9080, peerPrincipal: spiffe('productpage'), ...request }),
    ).toMatchObject({
      outcome,
      filterChain: 'inbound|9080||',
      transport: 'raw_buffer',
    });
  });
});
