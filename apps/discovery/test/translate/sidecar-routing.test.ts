/**
 * Simulation tests for sidecar HTTP routing: Istio YAML in, a request through
 * the generated config, assert the route, cluster and endpoint it hits.
 */
import { describe, expect, it } from 'vitest';
import { simulateRequest } from '../../src/translate/index.ts';
import { docs, generate, head, routeAction, serviceYaml, sidecar, simulate } from './builders.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';
const reviews = serviceYaml({
  name: 'reviews',
  workloads: { v1: '127.0.0.4', v2: '127.0.0.5', v3: '127.0.0.6' },
});
const ratings = serviceYaml({ name: 'ratings', workloads: { v1: '127.0.0.7' } });
const subsets = `${head('DestinationRule', 'reviews')}
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
  - { name: v3, labels: { version: v3 } }`;

/** A reviews VirtualService with the given `http:` routes (YAML, indented as list items under http). */
function reviewsVs(http: string): string {
  return `${head('VirtualService', 'reviews')}
  hosts: [reviews]
  http:
${http}`;
}

const mesh = (vs: string) => docs(reviews, ratings, subsets, vs);
const to = (subset: string) => `outbound|9080|${subset}|${REVIEWS}`;

describe('sidecar HTTP routing by match', () => {
  const matchVs = mesh(
    reviewsVs(`  - name: exact
    match: [{ uri: { exact: /exact } }]
    route: [{ destination: { host: reviews, subset: v1 } }]
  - name: prefix
    match: [{ uri: { prefix: /api/ } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - name: regex
    match: [{ uri: { regex: "/items/[0-9]+" } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - name: header
    match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - name: header-prefix
    match: [{ headers: { x-tier: { prefix: gold } } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - name: query
    match: [{ queryParams: { debug: { exact: "1" } } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - name: method
    match: [{ method: { exact: POST } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - name: nocase
    match: [{ uri: { exact: /CaseLess }, ignoreUriCase: true }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - name: catch-all
    route: [{ destination: { host: reviews, subset: v1 } }]`),
  );

  it.each([
    ['exact URI', { path: '/exact' }, 'exact', to('v1'), '127.0.0.4:9080'],
    [
      'exact URI does not match a longer path',
      { path: '/exact/more' },
      'catch-all',
      to('v1'),
      '127.0.0.4:9080',
    ],
    ['prefix URI', { path: '/api/books' }, 'prefix', to('v2'), '127.0.0.5:9080'],
    ['regex URI (whole path)', { path: '/items/42' }, 'regex', to('v3'), '127.0.0.6:9080'],
    [
      'regex URI does not match a partial path',
      { path: '/items/42x' },
      'catch-all',
      to('v1'),
      '127.0.0.4:9080',
    ],
    ['exact header', { headers: { 'end-user': 'jason' } }, 'header', to('v2'), '127.0.0.5:9080'],
    [
      'header with another value',
      { headers: { 'end-user': 'mary' } },
      'catch-all',
      to('v1'),
      '127.0.0.4:9080',
    ],
    ['prefix header', { headers: { 'x-tier': 'gold-plus' } }, 'header-prefix', to('v3'), '127.0.0.6:9080'],
    ['query parameter', { path: '/?debug=1' }, 'query', to('v3'), '127.0.0.6:9080'],
    ['method', { method: 'POST' }, 'method', to('v2'), '127.0.0.5:9080'],
    ['ignoreUriCase', { path: '/caseless' }, 'nocase', to('v3'), '127.0.0.6:9080'],
    ['nothing special', {}, 'catch-all', to('v1'), '127.0.0.4:9080'],
  ])('%s', (_name, request, routeName, cluster, endpoint) => {
    const result = simulate(matchVs, { port: 9080, authority: 'reviews:9080', ...request });
    expect(result).toMatchObject({
      listener: '0.0.0.0_9080',
      routeConfig: '9080',
      virtualHost: `${REVIEWS}:9080`,
    });
    expect({ routeName: result.routeName, cluster: result.cluster, endpoint: result.endpoint }).toEqual({
      routeName,
      cluster,
      endpoint,
    });
  });

  it.each([
    ['FQDN', REVIEWS],
    ['FQDN with port', `${REVIEWS}:9080`],
    ['short name', 'reviews'],
    ['NAME.NAMESPACE', 'reviews.default'],
    ['NAME.NAMESPACE.svc:PORT', 'reviews.default.svc:9080'],
  ])('reaches the reviews virtual host by %s', (_name, authority) => {
    expect(simulate(matchVs, { port: 9080, authority }).virtualHost).toBe(`${REVIEWS}:9080`);
  });

  it('does not give short names to proxies in other namespaces', () => {
    const result = simulate(matchVs, { port: 9080, authority: 'reviews' }, sidecar({ namespace: 'other' }));
    expect(result.virtualHost).toBe('allow_any');
  });

  it('uses withoutHeaders as an inverted match', () => {
    const vs = mesh(
      reviewsVs(`  - name: anonymous
    match: [{ withoutHeaders: { authorization: {} } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]`),
    );
    expect(simulate(vs, { port: 9080, authority: 'reviews' }).cluster).toBe(to('v3'));
    expect(
      simulate(vs, { port: 9080, authority: 'reviews', headers: { authorization: 'Bearer x' } }).cluster,
    ).toBe(to('v1'));
  });

  it('applies sourceLabels at generation time, per proxy', () => {
    const vs = mesh(
      reviewsVs(`  - name: from-canary
    match: [{ sourceLabels: { track: canary } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]`),
    );
    const canary = sidecar({ labels: { app: 'client', track: 'canary' } });
    expect(simulate(vs, { port: 9080, authority: 'reviews' }, canary).cluster).toBe(to('v3'));
    expect(simulate(vs, { port: 9080, authority: 'reviews' }).cluster).toBe(to('v1'));
  });

  it('returns 404 when a VirtualService has no route for the request, as Istio does', () => {
    const vs = mesh(
      reviewsVs(`  - match: [{ uri: { prefix: /only } }]\n    route: [{ destination: { host: reviews } }]`),
    );
    expect(simulate(vs, { port: 9080, authority: 'reviews', path: '/else' }).error).toBe(
      'no route matched (404)',
    );
  });
  it('skips a delegate route with a warning and keeps the routes after it', () => {
    const vs = mesh(
      reviewsVs(`  - name: delegated
    delegate: { name: reviews-team, namespace: default }
  - name: rest
    route: [{ destination: { host: reviews, subset: v2 } }]`),
    );
    const generated = generate(vs);
    expect(generated.warnings).toContain(
      'VirtualService default/reviews: route delegated skipped: delegate is not supported yet',
    );
    expect(simulateRequest(generated.resources, { port: 9080, authority: 'reviews' })).toMatchObject({
      routeName: 'rest',
      cluster: to('v2'),
    });
  });
});

describe('sidecar HTTP route actions', () => {
  it('splits by relative weight (90/10 -> v1 below 0.9, v3 above)', () => {
    const vs = mesh(
      reviewsVs(`  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 9 }
    - { destination: { host: reviews, subset: v3 }, weight: 1 }`),
    );
    const low = simulate(vs, { port: 9080, authority: 'reviews', pick: 0.89 });
    const high = simulate(vs, { port: 9080, authority: 'reviews', pick: 0.91 });
    expect(low.weightedClusters).toEqual([
      { name: to('v1'), weight: 9 },
      { name: to('v3'), weight: 1 },
    ]);
    expect([low.cluster, low.endpoint, high.cluster, high.endpoint]).toEqual([
      to('v1'),
      '127.0.0.4:9080',
      to('v3'),
      '127.0.0.6:9080',
    ]);
  });

  it('routes to a subset: only endpoints with the subset labels', () => {
    const vs = mesh(reviewsVs(`  - route: [{ destination: { host: reviews, subset: v2 } }]`));
    const endpoints = [0, 0.5, 0.99].map(
      (pick) => simulate(vs, { port: 9080, authority: 'reviews', pick }).endpoint,
    );
    expect(endpoints).toEqual(['127.0.0.5:9080', '127.0.0.5:9080', '127.0.0.5:9080']);
  });

  it('spreads the subset-less cluster over every version', () => {
    const vs = mesh(reviewsVs(`  - route: [{ destination: { host: reviews } }]`));
    const endpoints = [0, 0.5, 0.99].map(
      (pick) => simulate(vs, { port: 9080, authority: 'reviews', pick }).endpoint,
    );
    expect(endpoints).toEqual(['127.0.0.4:9080', '127.0.0.5:9080', '127.0.0.6:9080']);
  });

  it('redirects', () => {
    const vs = mesh(
      reviewsVs(
        `  - match: [{ uri: { prefix: /old } }]\n    redirect: { uri: /new, authority: ratings, redirectCode: 307 }`,
      ),
    );
    const result = simulate(vs, { port: 9080, authority: 'reviews', path: '/old/x' });
    expect(result.redirect).toEqual({
      pathRedirect: '/new',
      hostRedirect: 'ratings',
      responseCode: 'TEMPORARY_REDIRECT',
    });
    expect(result.cluster).toBeUndefined();
  });

  it('answers directly with directResponse', () => {
    const vs = mesh(reviewsVs(`  - directResponse: { status: 418, body: { string: teapot } }`));
    const result = simulate(vs, { port: 9080, authority: 'reviews' });
    expect(result.directResponse).toEqual({ status: 418 });
    expect(result.route?.directResponse).toEqual({ status: 418, body: { inlineString: 'teapot' } });
  });

  it('rewrites the path prefix and authority', () => {
    const vs = mesh(
      reviewsVs(`  - match: [{ uri: { prefix: /v1/ } }]
    rewrite: { uri: /, authority: reviews.internal }
    route: [{ destination: { host: reviews, subset: v1 } }]`),
    );
    const result = simulate(vs, { port: 9080, authority: 'reviews', path: '/v1/books' });
    expect(result.cluster).toBe(to('v1'));
    expect(result.route?.route).toMatchObject({ prefixRewrite: '/', hostRewriteLiteral: 'reviews.internal' });
  });

  it('injects faults through the fault filter', () => {
    const vs = mesh(
      reviewsVs(`  - fault:
      delay: { fixedDelay: 7s, percentage: { value: 100 } }
      abort: { httpStatus: 500, percentage: { value: 12.5 } }
    route: [{ destination: { host: reviews, subset: v1 } }]`),
    );
    const result = simulate(vs, { port: 9080, authority: 'reviews' });
    expect(result.route?.typedPerFilterConfig).toEqual({
      'envoy.filters.http.fault': {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
        delay: { fixedDelay: { seconds: 7 }, percentage: { numerator: 1_000_000, denominator: 'MILLION' } },
        abort: { httpStatus: 500, percentage: { numerator: 125_000, denominator: 'MILLION' } },
      },
    });
  });

  it.each([
    [
      'Istio default when unset',
      undefined,
      {
        retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
        numRetries: { value: 2 },
        retriableStatusCodes: [503],
      },
    ],
    [
      'as configured, numeric codes become retriable status codes',
      '{ attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,503" }',
      {
        retryOn: 'gateway-error,retriable-status-codes',
        numRetries: { value: 3 },
        perTryTimeout: { seconds: 2 },
        retriableStatusCodes: [503],
      },
    ],
    ['none with attempts 0', '{ attempts: 0 }', undefined],
  ])('retries: %s', (_name, retries, expected) => {
    const vs = mesh(
      reviewsVs(
        `  - ${retries ? `retries: ${retries}\n    ` : ''}route: [{ destination: { host: reviews, subset: v1 } }]`,
      ),
    );
    const policy = routeAction(simulate(vs, { port: 9080, authority: 'reviews' })).retryPolicy;
    if (expected) expect(policy).toMatchObject(expected);
    else expect(policy).toBeUndefined();
  });

  it.each([
    ['disabled (0s) by default', undefined, { seconds: 0 }],
    ['as configured', '1.5s', { seconds: 1, nanos: 500_000_000 }],
  ])('timeout: %s', (_name, timeout, expected) => {
    const vs = mesh(
      reviewsVs(
        `  - ${timeout ? `timeout: ${timeout}\n    ` : ''}route: [{ destination: { host: reviews, subset: v1 } }]`,
      ),
    );
    expect(routeAction(simulate(vs, { port: 9080, authority: 'reviews' })).timeout).toEqual(expected);
  });

  it('mirrors a percentage of traffic to another cluster', () => {
    const vs = mesh(
      reviewsVs(`  - route: [{ destination: { host: reviews, subset: v1 } }]
    mirror: { host: reviews, subset: v2 }
    mirrorPercentage: { value: 50 }`),
    );
    const result = simulate(vs, { port: 9080, authority: 'reviews' });
    expect(result.cluster).toBe(to('v1'));
    expect(routeAction(result).requestMirrorPolicies).toEqual([
      {
        cluster: to('v2'),
        runtimeFraction: { defaultValue: { numerator: 500_000, denominator: 'MILLION' } },
      },
    ]);
  });

  it('manipulates request and response headers, per route and per destination', () => {
    const vs = mesh(
      reviewsVs(`  - headers:
      request: { set: { x-env: prod }, add: { x-trace: a }, remove: [x-debug] }
      response: { set: { cache-control: no-store }, remove: [server] }
    route:
    - { destination: { host: reviews, subset: v1 }, weight: 1, headers: { request: { set: { x-version: v1 } } } }
    - { destination: { host: reviews, subset: v2 }, weight: 1 }`),
    );
    const result = simulate(vs, { port: 9080, authority: 'reviews' });
    expect(result.route).toMatchObject({
      requestHeadersToAdd: [
        { header: { key: 'x-env', value: 'prod' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        { header: { key: 'x-trace', value: 'a' }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' },
      ],
      requestHeadersToRemove: ['x-debug'],
      responseHeadersToAdd: [
        { header: { key: 'cache-control', value: 'no-store' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      ],
      responseHeadersToRemove: ['server'],
    });
    const weighted = (
      routeAction(result).weightedClusters as {
        clusters: Record<string, unknown>[];
      }
    ).clusters;
    expect(weighted[0]).toMatchObject({
      requestHeadersToAdd: [{ header: { key: 'x-version', value: 'v1' } }],
    });
  });
});

describe('sidecar defaults and outbound traffic policy', () => {
  it('routes to the service cluster with the default route when no VirtualService applies', () => {
    const result = simulate(docs(reviews, ratings), { port: 9080, authority: 'ratings:9080' });
    expect(result).toMatchObject({
      routeName: 'default',
      virtualHost: 'ratings.default.svc.cluster.local:9080',
      cluster: 'outbound|9080||ratings.default.svc.cluster.local',
      endpoint: '127.0.0.7:9080',
    });
  });

  it.each([
    [
      'ALLOW_ANY passes unknown hosts through',
      'ALLOW_ANY',
      { virtualHost: 'allow_any', cluster: 'PassthroughCluster' },
    ],
    [
      'REGISTRY_ONLY answers 502',
      'REGISTRY_ONLY',
      { virtualHost: 'block_all', directResponse: { status: 502 } },
    ],
  ] as const)('HTTP to an unknown host: %s', (_name, policy, expected) => {
    const result = simulate(docs(reviews), { port: 9080, authority: 'example.com' }, sidecar(), {
      outboundTrafficPolicy: policy,
    });
    expect(result).toMatchObject(expected);
  });

  it.each([
    ['ALLOW_ANY', 'ALLOW_ANY', 'PassthroughCluster'],
    ['REGISTRY_ONLY', 'REGISTRY_ONLY', 'BlackHoleCluster'],
  ] as const)('TCP to a port no service uses: %s', (_name, policy, cluster) => {
    const result = simulate(docs(reviews), { port: 3306, destinationAddress: '10.1.2.3' }, sidecar(), {
      outboundTrafficPolicy: policy,
    });
    expect(result).toMatchObject({ listener: 'virtualOutbound', cluster });
  });

  it('lets a Sidecar resource override the mesh outbound traffic policy', () => {
    const lockdown = `${head('Sidecar', 'default')}
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }`;
    const result = simulate(docs(reviews, lockdown), { port: 9080, authority: 'example.com' });
    expect(result).toMatchObject({ virtualHost: 'block_all', directResponse: { status: 502 } });
  });
});
