import { describe, expect, it } from 'vitest';
import type { Body } from '../config/problems.ts';
import { compileRouteConfiguration, type RouteConfig } from '../config/route-config.ts';
import { fault, routeConfiguration, routeTo, virtualHost, weightedRoute } from '../testing/builders.ts';
import { pickCluster, type RequestHeaders, selectRoute, selectVirtualHost } from './router.ts';

function compile(body: Body): RouteConfig {
  const result = compileRouteConfiguration(body);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

/** Routes one request through `config`; returns "vhost/cluster" or a short reason. */
function simulate(
  config: RouteConfig,
  authority: string,
  path: string,
  headers: RequestHeaders = {},
): string {
  const vh = selectVirtualHost(config, authority);
  if (!vh) return 'NR:vhost';
  const route = selectRoute(vh, { authority, path, headers });
  if (!route) return `${vh.name}/NR:route`;
  if (route.action.kind !== 'forward') return `${vh.name}/${route.action.kind}`;
  const picked = pickCluster(route.action, headers, () => 0);
  return `${vh.name}/${typeof picked === 'string' ? picked : picked?.name}`;
}

describe('virtual host selection', () => {
  const config = compile(
    routeConfiguration('80', [
      virtualHost('exact', ['api.example.com', 'api.example.com:8080'], [routeTo('a')]),
      virtualHost('suffix-long', ['*.eu.example.com'], [routeTo('b')]),
      virtualHost('suffix', ['*.example.com'], [routeTo('c')]),
      virtualHost('prefix', ['api.*'], [routeTo('d')]),
      virtualHost('any', ['*'], [routeTo('e')]),
    ]),
  );
  it.each([
    ['exact beats wildcards', 'api.example.com', 'exact/a'],
    ['exact is case-insensitive', 'API.Example.com', 'exact/a'],
    ['exact with port', 'api.example.com:8080', 'exact/a'],
    ['a port is part of the host (no stripping)', 'api.example.com:9999', 'prefix/d'],
    ['a port defeats a suffix wildcard', 'x.example.com:80', 'any/e'],
    ['longest suffix wins', 'x.eu.example.com', 'suffix-long/b'],
    ['suffix', 'x.example.com', 'suffix/c'],
    ['suffix before prefix', 'api.example.com.evil', 'prefix/d'],
    ['catch-all', 'other.org', 'any/e'],
  ])('%s', (_name, authority, expected) => {
    expect(simulate(config, authority, '/')).toBe(expected);
  });

  it('answers no virtual host without a catch-all', () => {
    const config2 = compile(routeConfiguration('r', [virtualHost('only', ['a.com'], [routeTo('a')])]));
    expect(simulate(config2, 'b.com', '/')).toBe('NR:vhost');
  });
});

describe('route matching', () => {
  const config = compile(
    routeConfiguration('r', [
      virtualHost(
        'vh',
        ['*'],
        [
          routeTo('exact', { path: '/exact' }),
          routeTo('regex', { safeRegex: { regex: '/items/[0-9]+' } }),
          routeTo('sep', { pathSeparatedPrefix: '/api' }),
          routeTo('nocase', { prefix: '/CASE', caseSensitive: { value: false } }),
          routeTo('hdr-present', { prefix: '/h', headers: [{ name: 'X-Canary', presentMatch: true }] }),
          routeTo('hdr-regex', {
            prefix: '/h',
            headers: [{ name: 'x-user', stringMatch: { safeRegex: { regex: 'a.*' } } }],
          }),
          routeTo('hdr-absent', {
            prefix: '/h',
            headers: [{ name: 'x-user', presentMatch: true, invertMatch: true }],
          }),
          routeTo('query', { prefix: '/q', queryParameters: [{ name: 'v', stringMatch: { exact: '2' } }] }),
          routeTo('grpc', { prefix: '/svc.', grpc: {} }),
          { match: { prefix: '/redirect' }, redirect: { hostRedirect: 'x' } },
          { match: { prefix: '/direct' }, directResponse: { status: 200 } },
          routeTo('default'),
        ],
      ),
    ]),
  );
  it.each([
    ['exact path ignores query', '/exact?x=1', {}, 'vh/exact'],
    ['exact path is exact', '/exact/more', {}, 'vh/default'],
    ['regex must match the whole path', '/items/42', {}, 'vh/regex'],
    ['regex full match', '/items/42x', {}, 'vh/default'],
    ['path separated prefix, same', '/api', {}, 'vh/sep'],
    ['path separated prefix, segment', '/api/v1', {}, 'vh/sep'],
    ['path separated prefix, not a segment', '/apiv1', {}, 'vh/default'],
    ['case-insensitive prefix', '/case/x', {}, 'vh/nocase'],
    ['header present', '/h', { 'x-canary': '1' }, 'vh/hdr-present'],
    ['header regex', '/h', { 'x-user': 'alice' }, 'vh/hdr-regex'],
    ['header absent', '/h', {}, 'vh/hdr-absent'],
    ['header regex miss falls through', '/h', { 'x-user': 'bob' }, 'vh/default'],
    ['query parameter', '/q?a=1&v=2', {}, 'vh/query'],
    ['query parameter miss', '/q?v=3', {}, 'vh/default'],
    ['grpc content type', '/svc.Foo/Bar', { 'content-type': 'application/grpc+proto' }, 'vh/grpc'],
    ['grpc route skipped for plain HTTP', '/svc.Foo/Bar', {}, 'vh/default'],
    ['redirect', '/redirect', {}, 'vh/redirect'],
    ['direct response', '/direct', {}, 'vh/direct'],
  ] as const)('%s', (_name, path, headers, expected) => {
    expect(simulate(config, 'host', path, headers)).toBe(expected);
  });
});

describe('weighted clusters', () => {
  it('splits by weight', () => {
    const config = compile(
      routeConfiguration('r', [
        virtualHost(
          'vh',
          ['*'],
          [
            weightedRoute([
              ['a', 25],
              ['b', 75],
            ]),
          ],
        ),
      ]),
    );
    const route = selectRoute(config.virtualHosts[0]!, { authority: 'h', path: '/', headers: {} })!;
    if (route.action.kind !== 'forward') throw new Error('expected forward');
    const action = route.action;
    const pick = (r: number) => {
      const c = pickCluster(action, {}, () => r);
      return typeof c === 'string' ? c : c?.name;
    };
    expect([pick(0), pick(0.249), pick(0.25), pick(0.99)]).toEqual(['a', 'a', 'b', 'b']);
  });
});

describe('compileRouteConfiguration problems', () => {
  it.each([
    [
      'duplicate domain',
      [virtualHost('a', ['x'], []), virtualHost('b', ['X'], [])],
      'virtualHosts[1].domains[0]',
    ],
    [
      'wildcard in the middle',
      [virtualHost('a', ['a.*.com'], [])],
      'a wildcard may only be the first or last',
    ],
    [
      'bad regex',
      [virtualHost('a', ['*'], [routeTo('c', { safeRegex: { regex: '(' } })])],
      'routes[0].match.safeRegex.regex: invalid regex',
    ],
    [
      'no action',
      [virtualHost('a', ['*'], [{ match: { prefix: '/' } }])],
      'one of route, redirect or directResponse',
    ],
    ['no match kind', [virtualHost('a', ['*'], [routeTo('c', {})])], 'one of prefix, path, safeRegex'],
    ['zero weights', [virtualHost('a', ['*'], [weightedRoute([['a', 0]])])], 'weights must sum to > 0'],
    [
      'unknown retry condition',
      [virtualHost('a', ['*'], [routeTo('c', undefined, { retryPolicy: { retryOn: '5xx,sometimes' } })])],
      'unknown retry condition "sometimes"',
    ],
    [
      'bad fault status',
      [
        virtualHost(
          'a',
          ['*'],
          [
            routeTo(
              'c',
              undefined,
              {},
              { typedPerFilterConfig: { 'envoy.filters.http.fault': fault({ abortStatus: 99 }) } },
            ),
          ],
        ),
      ],
      "typedPerFilterConfig['envoy.filters.http.fault'].abort.httpStatus: must be >= 200",
    ],
    [
      'unknown per-filter config',
      [
        virtualHost(
          'a',
          ['*'],
          [
            routeTo(
              'c',
              undefined,
              {},
              { typedPerFilterConfig: { x: { '@type': 'type.googleapis.com/foo.Bar' } } },
            ),
          ],
        ),
      ],
      'unsupported per-filter config foo.Bar',
    ],
  ])('reports %s', (_name, vhosts, expected) => {
    const result = compileRouteConfiguration(routeConfiguration('r', vhosts));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toContain(expected);
  });

  it('compiles retries, timeouts, rewrites, header mutation and fault', () => {
    const config = compile(
      routeConfiguration('r', [
        virtualHost(
          'vh',
          ['*'],
          [
            routeTo(
              'c',
              { prefix: '/' },
              {
                timeout: { seconds: '2' },
                prefixRewrite: '/v2/',
                retryPolicy: {
                  retryOn: 'gateway-error,retriable-status-codes',
                  numRetries: { value: 3 },
                  retriableStatusCodes: [409],
                },
              },
              {
                requestHeadersToAdd: [
                  { header: { key: 'X-A', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
                ],
                responseHeadersToRemove: ['X-Secret'],
                typedPerFilterConfig: { 'envoy.filters.http.fault': fault({ delayMs: 50, percent: 10 }) },
              },
            ),
          ],
        ),
      ]),
    );
    const route = config.virtualHosts[0]!.routes[0]!;
    expect(route.action).toMatchObject({ kind: 'forward', timeoutMs: 2000, prefixRewrite: '/v2/' });
    expect(route.retry).toMatchObject({ numRetries: 3, baseIntervalMs: 25, maxIntervalMs: 250 });
    expect(route.retry?.retryOn).toMatchObject({
      gatewayError: true,
      fiveXx: false,
      retriableStatusCodes: true,
    });
    expect([...(route.retry?.statusCodes ?? [])]).toEqual([409]);
    expect(route.requestHeaders.add).toEqual([
      { name: 'x-a', value: '1', action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
    expect(route.responseHeaders.remove).toEqual(['x-secret']);
    expect(route.filters.fault?.delay).toEqual({ ms: 50, fraction: 0.1 });
  });
});
