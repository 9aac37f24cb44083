import { describe, expect, it } from 'vitest';
import {
  filterChain,
  httpConnectionManager,
  httpFilter,
  listener,
  routeConfiguration,
  routeTo,
  tcpProxy,
  virtualHost,
} from '../testing/builders.ts';
import { compileListener } from './listener-config.ts';
import type { Body } from './problems.ts';

function problemsOf(body: Body): string {
  const result = compileListener(body);
  return result.ok ? '' : result.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}

describe('compileListener', () => {
  it('compiles an HTTP chain with RDS and a TCP chain with a destination port match', () => {
    const result = compileListener(
      listener(
        'virtualOutbound',
        15001,
        [
          filterChain(httpConnectionManager('9080'), {
            destinationPort: { value: 9080 },
            applicationProtocols: ['http/1.1', 'h2c'],
          }),
          filterChain(tcpProxy('outbound|3306||db', { idleTimeout: { seconds: '60' } }), {
            destinationPort: { value: 3306 },
          }),
        ],
        { listenerFilters: [{ name: 'envoy.filters.listener.original_dst' }] },
      ),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const l = result.value;
    expect(l).toMatchObject({
      name: 'virtualOutbound',
      address: { host: '127.0.0.1', port: 15001 },
      useOriginalDst: false,
      recoverOriginalDst: true,
    });
    expect(l.filterChains[0]).toMatchObject({
      match: { destinationPort: 9080, applicationProtocols: ['http/1.1', 'h2c'] },
      network: {
        kind: 'http',
        rds: '9080',
        // XFCC handling (default SANITIZE) runs first, before any configured filter.
        httpFilters: [{ kind: 'xfcc', xfcc: { mode: 'SANITIZE' } }, 'fault', 'cors', 'router'],
        streamIdleTimeoutMs: 300000,
      },
    });
    expect(l.filterChains[1]?.network).toMatchObject({
      kind: 'tcp',
      clusters: [{ name: 'outbound|3306||db', weight: 1 }],
      idleTimeoutMs: 60000,
    });
  });

  it.each([
    {
      name: 'defaults',
      extra: {},
      expected: { requestTimeoutMs: 0, requestHeadersTimeoutMs: 60000, maxHeadersCount: 100 },
    },
    {
      name: 'configured',
      extra: {
        requestTimeout: { seconds: '5' },
        requestHeadersTimeout: { nanos: 500_000_000 },
        commonHttpProtocolOptions: { maxHeadersCount: { value: 20 } },
      },
      expected: { requestTimeoutMs: 5000, requestHeadersTimeoutMs: 500, maxHeadersCount: 20 },
    },
    {
      name: 'disabled header timeout',
      extra: { requestHeadersTimeout: { seconds: '0' } },
      expected: { requestHeadersTimeoutMs: 0 },
    },
  ])('compiles the HTTP/1.1 request limits: $name', ({ extra, expected }) => {
    const result = compileListener(listener('l', 8080, [filterChain(httpConnectionManager('r', extra))]));
    expect(result.ok && result.value.filterChains[0]?.network).toMatchObject(expected);
  });

  it('refuses a max_headers_count of 0 with its path', () => {
    const problems = problemsOf(
      listener('l', 8080, [
        filterChain(
          httpConnectionManager('r', { commonHttpProtocolOptions: { maxHeadersCount: { value: 0 } } }),
        ),
      ]),
    );
    expect(problems).toContain('maxHeadersCount');
  });

  it('compiles an inline route configuration', () => {
    const result = compileListener(
      listener('l', 8080, [
        filterChain(
          httpConnectionManager(routeConfiguration('inline', [virtualHost('v', ['*'], [routeTo('c')])])),
        ),
      ]),
    );
    expect(
      result.ok &&
        result.value.filterChains[0]?.network.kind === 'http' &&
        result.value.filterChains[0].network.routeConfig?.name,
    ).toBe('inline');
  });

  it('skips an unknown optional HTTP filter', () => {
    const hcm = httpConnectionManager('r', {
      httpFilters: [
        { name: 'istio.stats', isOptional: true, typedConfig: { '@type': 'type.googleapis.com/x.Stats' } },
        httpFilter('router'),
      ],
    });
    expect(problemsOf(listener('l', 1, [filterChain(hcm)]))).toBe('');
  });

  it.each([
    ['no filter chains', listener('l', 1, []), 'filterChains: at least one filter chain'],
    [
      'missing address',
      { name: 'l', filterChains: [filterChain(tcpProxy('c'))] },
      'address.socketAddress: is required',
    ],
    [
      'unknown non-optional HTTP filter',
      listener('l', 1, [
        filterChain(
          httpConnectionManager('r', {
            httpFilters: [{ name: 'envoy.filters.http.lua' }, httpFilter('router')],
          }),
        ),
      ]),
      'filterChains[0].filters[0].typedConfig.httpFilters[0]: unsupported HTTP filter envoy.filters.http.lua',
    ],
    [
      'router not last',
      listener('l', 1, [
        filterChain(httpConnectionManager('r', { httpFilters: [httpFilter('router'), httpFilter('fault')] })),
      ]),
      'the router filter must be present and last',
    ],
    [
      'unknown network filter',
      listener('l', 1, [{ filters: [{ name: 'envoy.filters.network.redis_proxy' }] }]),
      'unsupported network filter envoy.filters.network.redis_proxy',
    ],
    [
      'tcp proxy without cluster',
      listener('l', 1, [filterChain(tcpProxy(''))]),
      'one of cluster or weightedClusters is required',
    ],
    [
      'bad port',
      listener('l', 70000, [filterChain(tcpProxy('c'))]),
      'address.socketAddress.portValue: must be <= 65535',
    ],
    [
      'downstream TLS',
      listener('l', 1, [{ ...filterChain(tcpProxy('c')), transportSocket: { name: 'tls' } }]),
      'filterChains[0].transportSocket: unsupported transport socket tls',
    ],
    [
      'unknown listener filter',
      listener('l', 1, [filterChain(tcpProxy('c'))], {
        listenerFilters: [{ name: 'envoy.filters.listener.proxy_protocol' }],
      }),
      'unsupported listener filter',
    ],
  ])('rejects %s', (_name, body, expected) => {
    expect(problemsOf(body)).toContain(expected);
  });
});
