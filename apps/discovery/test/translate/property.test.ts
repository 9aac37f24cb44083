/**
 * Property test: for random (valid) meshes and VirtualServices — unknown
 * hosts, missing subsets, odd ports, every match and action kind, random
 * mTLS modes and AuthorizationPolicies — the
 * translator never throws, and everything it emits encodes against Envoy's
 * protos, for a sidecar, a gateway and a proxyless client (whose resources
 * grpc-js-xds's validators must also accept).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MeshProxy } from '../../src/model/index.ts';
import { generateResources } from '../../src/translate/index.ts';
import { authorizationPolicyArb } from './authorization-arbitraries.ts';
import { docs, head, istio, proxyless, push, router, serviceYaml, sidecar } from './builders.ts';
import { encodeProblems, grpcRejections } from './validators.ts';

const hostArb = fc.constantFrom('a', 'b', 'c', 'missing', 'a.default.svc.cluster.local', 'ext.example.com');
const portArb = fc.constantFrom(80, 8080, 9090);
const subsetArb = fc.option(fc.constantFrom('v1', 'v2', 'nope'), { nil: undefined });

const destinationArb = fc
  .record({ host: hostArb, subset: subsetArb, port: fc.option(portArb, { nil: undefined }) })
  .map(
    (d) =>
      `{ host: ${d.host}${d.subset ? `, subset: ${d.subset}` : ''}${d.port ? `, port: { number: ${d.port} }` : ''} }`,
  );

const matchArb = fc
  .record({
    uri: fc.option(fc.constantFrom('{ exact: /x }', '{ prefix: /api }', '{ regex: "/r/[0-9]+" }'), {
      nil: undefined,
    }),
    header: fc.option(fc.constantFrom('{ x-a: { exact: "1" } }', '{ x-b: { prefix: p } }', '{ x-c: {} }'), {
      nil: undefined,
    }),
    query: fc.option(fc.constant('{ q: { exact: "1" } }'), { nil: undefined }),
    method: fc.option(fc.constantFrom('GET', 'POST'), { nil: undefined }),
    port: fc.option(portArb, { nil: undefined }),
  })
  .map((m) =>
    [
      m.uri && `uri: ${m.uri}`,
      m.header && `headers: ${m.header}`,
      m.query && `queryParams: ${m.query}`,
      m.method && `method: { exact: ${m.method} }`,
      m.port && `port: ${m.port}`,
    ]
      .filter(Boolean)
      .join(', '),
  );

const actionArb = fc.oneof(
  fc
    .array(fc.tuple(destinationArb, fc.integer({ min: 1, max: 100 })), { minLength: 1, maxLength: 3 })
    .map((ds) =>
      ds.length === 1
        ? `route: [{ destination: ${ds[0]![0]} }]`
        : `route: [${ds.map(([d, w]) => `{ destination: ${d}, weight: ${w} }`).join(', ')}]`,
    ),
  fc.constant('redirect: { uri: /moved, redirectCode: 302 }'),
  fc.constant('directResponse: { status: 503 }'),
);

const extrasArb = fc.subarray([
  'timeout: 2s',
  'retries: { attempts: 3, perTryTimeout: 1s, retryOn: "5xx,503" }',
  'retries: { attempts: 0 }',
  'fault: { abort: { httpStatus: 500, percentage: { value: 5 } } }',
  'fault: { delay: { fixedDelay: 1s, percentage: { value: 50 } } }',
  'mirror: { host: b }',
  'headers: { request: { set: { x-s: "1" } }, response: { remove: [server] } }',
  'rewrite: { uri: / }',
]);

const httpRouteArb = fc
  .record({ matches: fc.array(matchArb, { maxLength: 3 }), action: actionArb, extras: extrasArb })
  .map(({ matches, action, extras }) => {
    // A fault on its own needs a destination to be a valid route; extras
    // other than headers do not apply to redirect/directResponse.
    const usable = action.startsWith('route:')
      ? extras.filter((e, i, all) => all.findIndex((x) => x.split(':')[0] === e.split(':')[0]) === i)
      : [];
    const lines = [
      ...(matches.length > 0 ? [`match: [${matches.map((m) => `{ ${m} }`).join(', ')}]`] : []),
      action,
      ...usable,
    ];
    return `  - ${lines.join('\n    ')}`;
  });

/** Random mesh security: modes at three levels, a DestinationRule TLS mode, one random AuthorizationPolicy. */
const securityArb = fc
  .record({
    meshMode: fc.constantFrom('STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'),
    portMode: fc.constantFrom('STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'),
    tls: fc.constantFrom('', 'ISTIO_MUTUAL', 'DISABLE'),
    policy: authorizationPolicyArb('a'),
  })
  .map(({ meshMode, portMode, tls, policy }) => [
    `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: default, namespace: istio-system }\nspec: { mtls: { mode: ${meshMode} } }`,
    `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: a, namespace: default }\nspec: { selector: { matchLabels: { app: a } }, portLevelMtls: { "80": { mode: ${portMode} } } }`,
    policy,
    ...(tls
      ? [`${head('DestinationRule', 'c')}\n  host: c\n  trafficPolicy: { tls: { mode: ${tls} } }`]
      : []),
  ]);

const meshArb = fc
  .record({
    security: securityArb,
    routes: fc.array(httpRouteArb, { minLength: 1, maxLength: 4 }),
    vsHost: fc.constantFrom('a', 'b', '"*.default.svc.cluster.local"'),
    gateways: fc.constantFrom('', '  gateways: [mesh, gw]'),
    lb: fc.constantFrom('ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'),
  })
  .map(({ security, routes, vsHost, gateways, lb }) =>
    docs(
      ...security,
      serviceYaml({
        name: 'a',
        ports: [
          { number: 80, name: 'http', protocol: 'HTTP' },
          { number: 8080, name: 'http-alt', protocol: 'HTTP' },
        ],
        workloads: { v1: '127.0.5.2', v2: '127.0.5.3' },
      }),
      serviceYaml({
        name: 'b',
        ports: [{ number: 9090, name: 'grpc', protocol: 'GRPC' }],
        workloads: { v1: '127.0.6.2' },
      }),
      serviceYaml({
        name: 'c',
        ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
        workloads: { v2: '127.0.7.2' },
      }),
      `${head('DestinationRule', 'a')}\n  host: a\n  trafficPolicy: { loadBalancer: { simple: ${lb} } }\n  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]`,
      `${head('Gateway', 'gw')}\n  selector: { istio: ingressgateway }\n  servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }]`,
      `${head('VirtualService', 'vs')}\n  hosts: [${vsHost}]\n${gateways ? `${gateways}\n` : ''}  http:\n${routes.join('\n')}`,
    ),
  );

const PROXIES: [string, () => MeshProxy][] = [
  ['sidecar', () => sidecar({ ip: '127.0.5.2', name: 'a-v1', labels: { app: 'a', version: 'v1' } })],
  ['gateway', () => router()],
  ['proxyless', () => proxyless()],
];

describe('translation of random meshes', () => {
  it.each(PROXIES)('never throws and always encodes, for a %s', (_name, proxy) => {
    fc.assert(
      fc.property(meshArb, (yaml) => {
        const generated = generateResources(proxy(), push(istio(yaml)));
        expect(encodeProblems(generated.resources)).toEqual([]);
        if (proxy().generator === 'grpc') expect(grpcRejections(generated.resources)).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
