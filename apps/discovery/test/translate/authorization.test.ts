/**
 * AuthorizationPolicy by simulation (with RequestAuthentication claims): Istio YAML
 * in, the RBAC and jwt_authn filters generated for the receiving workload,
 * then a request from a given peer (SPIFFE ID, source IP, headers, JWT
 * claims) through them with the shipped evaluator (simulateInbound).
 */
import { LISTENER_TYPE_URL } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import {
  generateResources,
  type InboundSimulation,
  type SimulatedInboundRequest,
  simulateInbound,
} from '../../src/translate/index.ts';
import { bookinfo, docs, generate, push, sidecar, spiffe } from './builders.ts';
import {
  ISSUER,
  PRODUCTPAGE,
  policy,
  requestAuthentication,
  reviews,
  reviewsTcp,
  reviewsV1,
  SELECT_REVIEWS,
  token,
} from './security-fixtures.ts';

const allowPolicy = policy(
  'reviews-allow',
  `${SELECT_REVIEWS}
  action: ALLOW
  rules:
  - from: [{ source: { principals: [cluster.local/ns/default/sa/productpage] } }]
    to: [{ operation: { methods: [GET, HEAD], paths: ["/reviews/*"] } }]
  - from: [{ source: { namespaces: [admin] } }]
  - from: [{ source: { requestPrincipals: ["${ISSUER}/*"] } }]
    when: [{ key: "request.auth.claims[groups]", values: [reviewers] }]
  - to: [{ operation: { paths: [/healthz] } }]
  - to: [{ operation: { hosts: ["*.internal"] } }]
    when: [{ key: "request.headers[x-api-version]", values: ["v2*"] }]`,
);
const denyPolicy = policy(
  'reviews-deny',
  `${SELECT_REVIEWS}
  action: DENY
  rules:
  - to: [{ operation: { methods: [DELETE] } }]
  - when: [{ key: "request.headers[x-block]", values: ["*"] }]
  - from: [{ source: { ipBlocks: [10.0.0.0/8] } }]
  - from: [{ source: { notPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/admin*"] } }]`,
);
type Case = [string, Partial<SimulatedInboundRequest>, Partial<InboundSimulation>];

const matrix: Case[] = [
  [
    'productpage GET /reviews/1: allowed by its principal',
    { peerPrincipal: PRODUCTPAGE, http: { path: '/reviews/1' } },
    { outcome: 'allowed', status: 200, policy: 'ns[default]-policy[reviews-allow]-rule[0]' },
  ],
  [
    'productpage POST /reviews/1: method not allowed',
    { peerPrincipal: PRODUCTPAGE, http: { method: 'POST', path: '/reviews/1' } },
    { outcome: 'denied', status: 403 },
  ],
  [
    'productpage GET /ratings: path not allowed',
    { peerPrincipal: PRODUCTPAGE, http: { path: '/ratings' } },
    { outcome: 'denied', status: 403 },
  ],
  [
    'productpage GET /reviews/1?x=1: the query is not part of the path',
    { peerPrincipal: PRODUCTPAGE, http: { path: '/reviews/1?x=1' } },
    { outcome: 'allowed' },
  ],
  [
    'ratings GET /reviews/1: principal not allowed',
    { peerPrincipal: spiffe('ratings'), http: { path: '/reviews/1' } },
    { outcome: 'denied', status: 403 },
  ],
  [
    'admin namespace POST /anything: allowed by namespace',
    { peerPrincipal: spiffe('ops', 'admin'), http: { method: 'POST', path: '/anything' } },
    { outcome: 'allowed', policy: 'ns[default]-policy[reviews-allow]-rule[1]' },
  ],
  [
    'admin-like namespace "administrators": not the admin namespace',
    { peerPrincipal: spiffe('ops', 'administrators'), http: { method: 'POST', path: '/x' } },
    { outcome: 'denied' },
  ],
  [
    'admin namespace DELETE: DENY wins over ALLOW',
    { peerPrincipal: spiffe('ops', 'admin'), http: { method: 'DELETE', path: '/reviews/1' } },
    { outcome: 'denied', status: 403, policy: 'ns[default]-policy[reviews-deny]-rule[0]' },
  ],
  [
    'productpage with an x-block header: denied by header presence',
    { peerPrincipal: PRODUCTPAGE, http: { path: '/reviews/1', headers: { 'x-block': 'yes' } } },
    { outcome: 'denied', policy: 'ns[default]-policy[reviews-deny]-rule[1]' },
  ],
  [
    'productpage from 10.1.2.3: denied by ipBlocks',
    { peerPrincipal: PRODUCTPAGE, sourceIp: '10.1.2.3', http: { path: '/reviews/1' } },
    { outcome: 'denied', policy: 'ns[default]-policy[reviews-deny]-rule[2]' },
  ],
  [
    'plaintext GET /healthz: allowed for anyone',
    { http: { path: '/healthz' } },
    { outcome: 'allowed', policy: 'ns[default]-policy[reviews-allow]-rule[3]' },
  ],
  [
    'plaintext GET /reviews/1: no identity, denied',
    { http: { path: '/reviews/1' } },
    { outcome: 'denied', status: 403 },
  ],
  [
    'plaintext GET /admin: denied to the unauthenticated by notPrincipals',
    { http: { path: '/admin/users' } },
    { outcome: 'denied', policy: 'ns[default]-policy[reviews-deny]-rule[3]' },
  ],
  [
    'a JWT with groups [reviewers]: allowed by claim',
    { http: { path: '/any' }, jwt: token({ groups: ['reviewers', 'x'] }) },
    { outcome: 'allowed', policy: 'ns[default]-policy[reviews-allow]-rule[2]' },
  ],
  [
    'a JWT with groups "reviewers" (string claim): allowed',
    { http: { path: '/any' }, jwt: token({ groups: 'reviewers' }) },
    { outcome: 'allowed' },
  ],
  [
    'a JWT with groups [viewers]: denied',
    { http: { path: '/any' }, jwt: token({ groups: ['viewers'] }) },
    { outcome: 'denied', status: 403 },
  ],
  [
    'a JWT from another issuer: 401',
    {
      http: { path: '/any' },
      jwt: { payload: { iss: 'https://evil.example', aud: 'reviews', groups: ['reviewers'] } },
    },
    { outcome: 'unauthenticated', status: 401 },
  ],
  [
    'a JWT for another audience: 401',
    { http: { path: '/any' }, jwt: token({ aud: 'ratings', groups: ['reviewers'] }) },
    { outcome: 'unauthenticated', status: 401 },
  ],
  [
    'an invalid JWT: 401 even on an allowed path',
    { http: { path: '/healthz' }, jwt: { invalid: true } },
    { outcome: 'unauthenticated', status: 401 },
  ],
  [
    'host *.internal with x-api-version v2.1: allowed',
    { http: { path: '/x', authority: 'reviews.internal', headers: { 'x-api-version': 'v2.1' } } },
    { outcome: 'allowed', policy: 'ns[default]-policy[reviews-allow]-rule[4]' },
  ],
  [
    'host *.internal (any case) with x-api-version v1: denied',
    { http: { path: '/x', authority: 'REVIEWS.INTERNAL', headers: { 'x-api-version': 'v1' } } },
    { outcome: 'denied' },
  ],
];

describe('AuthorizationPolicy matrix (ALLOW + DENY + RequestAuthentication on reviews)', () => {
  const resources = generate(
    docs(reviews, allowPolicy, denyPolicy, requestAuthentication),
    reviewsV1(),
  ).resources;

  it.each(matrix)('%s', (_name, request, expected) => {
    expect(simulateInbound(resources, { port: 9080, ...request })).toMatchObject(expected);
  });

  it('orders the HTTP filters jwt_authn, RBAC DENY, RBAC ALLOW, then fault, CORS and the router', () => {
    const listener = resources[LISTENER_TYPE_URL]?.find((l) => l.name === 'virtualInbound')?.body as {
      filterChains: {
        filters: {
          typedConfig: { httpFilters: { name: string; typedConfig: { rules?: { action: string } } }[] };
        }[];
      }[];
    };
    const filters = listener.filterChains[0]!.filters[0]!.typedConfig.httpFilters;
    expect(
      filters.map(
        (f) => `${f.name}${f.name === 'envoy.filters.http.rbac' ? `:${f.typedConfig.rules?.action}` : ''}`,
      ),
    ).toEqual([
      'envoy.filters.http.jwt_authn',
      'envoy.filters.http.rbac:DENY',
      'envoy.filters.http.rbac:ALLOW',
      'envoy.filters.http.fault',
      'envoy.filters.http.cors',
      'envoy.filters.http.router',
    ]);
  });
});

describe('AuthorizationPolicy semantics', () => {
  const get = (yaml: string, request: Partial<SimulatedInboundRequest> = {}) =>
    simulateInbound(generate(docs(reviews, yaml), reviewsV1()).resources, {
      port: 9080,
      http: { path: '/' },
      ...request,
    });

  it.each([
    ['no policy: allow all', '', 'allowed'],
    ['ALLOW with no rules (spec {}): deny all', policy('deny-all', '  {}'), 'denied'],
    ['ALLOW with an empty rule: allow all', policy('allow-all', '  rules: [{}]'), 'allowed'],
    [
      'a mesh-wide (root namespace) ALLOW nothing: deny all',
      policy('deny-all', '  {}', 'istio-system'),
      'denied',
    ],
    ["another namespace's policy does not apply", policy('deny-all', '  {}', 'other'), 'allowed'],
    [
      'a policy selecting other workloads does not apply',
      policy('deny-all', '  selector: { matchLabels: { app: ratings } }'),
      'allowed',
    ],
    ['AUDIT never decides', policy('audit', '  action: AUDIT\n  rules: [{}]'), 'allowed'],
    [
      'DENY with notMethods',
      policy('deny', '  action: DENY\n  rules: [{ to: [{ operation: { notMethods: [GET] } }] }]'),
      'allowed',
    ],
    [
      'DENY when source.ip is in a block',
      policy('deny', '  action: DENY\n  rules: [{ when: [{ key: source.ip, values: [127.0.0.0/8] }] }]'),
      'denied',
    ],
    [
      'DENY when destination.port is 9080',
      policy('deny', '  action: DENY\n  rules: [{ when: [{ key: destination.port, values: ["9080"] }] }]'),
      'denied',
    ],
    [
      'ALLOW only other ports',
      policy('allow', '  rules: [{ to: [{ operation: { ports: ["8080"] } }] }]'),
      'denied',
    ],
  ])('%s', (_name, yaml, outcome) => {
    expect(get(yaml).outcome).toBe(outcome);
  });

  it('adds a LOG RBAC filter for AUDIT policies', () => {
    const text = JSON.stringify(
      generate(docs(reviews, policy('audit', '  action: AUDIT\n  rules: [{}]')), reviewsV1()).resources,
    );
    expect(text).toContain('"action":"LOG"');
  });

  it('warns about and ignores CUSTOM policies', () => {
    const generated = generate(
      docs(reviews, policy('ext', '  action: CUSTOM\n  provider: { name: opa }\n  rules: [{}]')),
      reviewsV1(),
    );
    expect(generated.warnings.join('\n')).toContain('action CUSTOM (ext_authz) is not supported');
  });
});

describe('AuthorizationPolicy on TCP chains (network RBAC)', () => {
  const connect = (yaml: string, request: Partial<SimulatedInboundRequest> = {}) => {
    const generated = generate(docs(reviewsTcp, yaml), reviewsV1());
    return {
      result: simulateInbound(generated.resources, { port: 9080, ...request }),
      warnings: generated.warnings,
    };
  };

  it.each([
    [
      'ALLOW by principal: the right peer connects',
      policy(
        'a',
        `${SELECT_REVIEWS}\n  rules: [{ from: [{ source: { principals: [cluster.local/ns/default/sa/productpage] } }] }]`,
      ),
      { peerPrincipal: PRODUCTPAGE },
      'allowed',
    ],
    [
      'ALLOW by principal: another peer is closed',
      policy(
        'a',
        `${SELECT_REVIEWS}\n  rules: [{ from: [{ source: { principals: [cluster.local/ns/default/sa/productpage] } }] }]`,
      ),
      { peerPrincipal: spiffe('ratings') },
      'denied',
    ],
    [
      'ALLOW with an HTTP-only field: the rule never matches (deny)',
      policy('a', `${SELECT_REVIEWS}\n  rules: [{ to: [{ operation: { methods: [GET] } }] }]`),
      { peerPrincipal: PRODUCTPAGE },
      'denied',
    ],
    [
      'DENY with an HTTP-only field: applied without it (deny)',
      policy(
        'd',
        `${SELECT_REVIEWS}\n  action: DENY\n  rules: [{ to: [{ operation: { methods: [DELETE] } }] }]`,
      ),
      { peerPrincipal: PRODUCTPAGE },
      'denied',
    ],
    [
      'DENY by port of another workload port: connects',
      policy(
        'd',
        `${SELECT_REVIEWS}\n  action: DENY\n  rules: [{ to: [{ operation: { ports: ["8080"] } }] }]`,
      ),
      { peerPrincipal: PRODUCTPAGE },
      'allowed',
    ],
  ])('%s', (_name, yaml, request, outcome) => {
    const { result } = connect(yaml, request);
    expect(result.outcome).toBe(outcome);
  });

  it('warns when HTTP-only fields are dropped on TCP', () => {
    const { warnings } = connect(
      policy('a', `${SELECT_REVIEWS}\n  rules: [{ to: [{ operation: { methods: [GET] } }] }]`),
    );
    expect(warnings).toContain(
      'AuthorizationPolicy default/a rule 0: methods cannot be evaluated on TCP chains; rule never matches',
    );
  });
});

describe('bookinfo authorization (examples/bookinfo/security.yaml)', () => {
  it.each([
    ['productpage -> reviews GET', '127.0.0.4', 'reviews', 'bookinfo-productpage', 'GET', 'allowed'],
    ['productpage -> reviews POST', '127.0.0.4', 'reviews', 'bookinfo-productpage', 'POST', 'denied'],
    ['ratings -> reviews GET', '127.0.0.4', 'reviews', 'bookinfo-ratings', 'GET', 'denied'],
    ['reviews -> ratings GET', '127.0.0.7', 'ratings', 'bookinfo-reviews', 'GET', 'allowed'],
    ['productpage -> ratings GET', '127.0.0.7', 'ratings', 'bookinfo-productpage', 'GET', 'denied'],
    ['productpage -> details GET', '127.0.0.3', 'details', 'bookinfo-productpage', 'GET', 'allowed'],
    [
      'gateway -> productpage GET (no policy)',
      '127.0.0.2',
      'productpage',
      'istio-ingressgateway',
      'GET',
      'allowed',
    ],
  ])('%s', async (_name, ip, app, serviceAccount, method, outcome) => {
    const proxy = sidecar({ ip, name: `${app}-v1`, labels: { app, version: 'v1' } });
    const resources = generateResources(proxy, push(await bookinfo())).resources;
    expect(
      simulateInbound(resources, {
        port: 9080,
        peerPrincipal: spiffe(serviceAccount),
        http: { method, path: '/' },
      }).outcome,
    ).toBe(outcome);
    // STRICT: plaintext never reaches the application.
    expect(simulateInbound(resources, { port: 9080, http: { method, path: '/' } }).outcome).toBe('closed');
  });
});
