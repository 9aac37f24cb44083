import { describe, expect, it } from 'vitest';
import { dest, errorsOf, problemsOf, route, vs } from '../../test/kind-builders.ts';

describe('VirtualService', () => {
  it.each([
    ['a single destination without weight', vs([route(dest('reviews'))])],
    [
      'weights that do not sum to 100 (relative)',
      vs([route({ ...dest('a'), weight: 1 }, { ...dest('b'), weight: 3 })]),
    ],
    ['an IP host', { hosts: ['10.0.0.1'], tcp: [route(dest('db'))] }],
    [
      'a wildcard host on a gateway',
      vs([route(dest('a'))], { hosts: ['*'], gateways: ['istio-system/ingress'] }),
    ],
    ['a null field (pruned as Kubernetes does)', vs([{ ...route(dest('a')), timeout: null }])],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('VirtualService', spec)).toEqual([]);
  });

  it.each([
    [
      'a negative weight',
      vs([route({ ...dest('a'), weight: -1 })]),
      'spec.http[0].route[0].weight: -1 out of range: must be >= 0',
    ],
    [
      'weights summing to zero',
      vs([route({ ...dest('a'), weight: 0 }, dest('b'))]),
      'spec.http[0].route: weights of the destinations sum to 0; at least one weight must be positive',
    ],
    [
      'a weight given as a string',
      vs([route({ ...dest('a'), weight: '50' })]),
      'spec.http[0].route[0].weight: expected an integer, got string',
    ],
    [
      'an unknown field',
      vs([{ ...route(dest('a')), rewite: {} }]),
      'spec.http[0].rewite: unknown field (did you mean "rewrite"?)',
    ],
    [
      'a regex that does not compile',
      vs([{ match: [{ uri: { regex: '[a-' } }], ...route(dest('a')) }]),
      'spec.http[0].match[0].uri.regex: invalid regex "[a-": Unterminated character class',
    ],
    [
      'a lookahead (not RE2)',
      vs([{ match: [{ uri: { regex: '/(?=x)' } }], ...route(dest('a')) }]),
      'spec.http[0].match[0].uri.regex: invalid regex "/(?=x)": lookaround is not supported by RE2',
    ],
    [
      'two kinds of string match at once',
      vs([{ match: [{ uri: { exact: '/a', prefix: '/b' } }], ...route(dest('a')) }]),
      'spec.http[0].match[0].uri: only one of exact, prefix may be set',
    ],
    [
      'route and redirect together',
      vs([{ ...route(dest('a')), redirect: { uri: '/b' } }]),
      'spec.http[0]: only one of route, redirect may be set',
    ],
    [
      'rewrite with redirect',
      vs([{ redirect: { uri: '/b' }, rewrite: { uri: '/c' } }]),
      'spec.http[0]: only one of rewrite, redirect may be set',
    ],
    [
      'no action at all',
      vs([{ match: [{ uri: { prefix: '/' } }] }]),
      'spec.http[0]: one of route, redirect, directResponse must be set',
    ],
    [
      'a port out of range',
      vs([{ match: [{ port: 70000 }], ...route(dest('a')) }]),
      'spec.http[0].match[0].port: 70000 out of range: must be in 1..65535',
    ],
    [
      'a bad host',
      { hosts: ['bad_host'], http: [route(dest('a'))] },
      'spec.hosts[0]: host "bad_host" has an invalid label "bad_host"',
    ],
    [
      'a wildcard in the middle of a host',
      { hosts: ['foo.*.com'], http: [route(dest('a'))] },
      'spec.hosts[0]: host "foo.*.com" has an invalid label "*"',
    ],
    [
      'host "*" bound to the mesh',
      { hosts: ['*'], http: [route(dest('a'))] },
      'spec.hosts[0]: wildcard host "*" is not allowed for a VirtualService bound to the mesh',
    ],
    [
      'no hosts',
      { http: [route(dest('a'))] },
      'spec.hosts: at least one host is required (delegate VirtualServices are not supported)',
    ],
    [
      'a destination without host',
      vs([route({ destination: { subset: 'v1' } })]),
      'spec.http[0].route[0].destination.host: required',
    ],
    [
      'a bad timeout',
      vs([{ ...route(dest('a')), timeout: '10 seconds' }]),
      'spec.http[0].timeout: invalid duration "10 seconds": use a number with a unit (ms, s, m, h), e.g. "1.5s"',
    ],
    [
      'an unknown retry policy',
      vs([{ ...route(dest('a')), retries: { attempts: 3, retryOn: '5xx,sometimes' } }]),
      'spec.http[0].retries.retryOn: unknown retry policy "sometimes"',
    ],
    [
      'an abort without status',
      vs([{ ...route(dest('a')), fault: { abort: { percentage: { value: 5 } } } }]),
      'spec.http[0].fault.abort: one of httpStatus, grpcStatus must be set',
    ],
    [
      'a fault percentage above 100',
      vs([{ ...route(dest('a')), fault: { delay: { fixedDelay: '1s', percentage: { value: 101 } } } }]),
      'spec.http[0].fault.delay.percentage.value: 101 out of range: must be in 0..100',
    ],
    [
      'a delay without fixedDelay',
      vs([{ ...route(dest('a')), fault: { delay: { percentage: { value: 1 } } } }]),
      'spec.http[0].fault.delay.fixedDelay: required',
    ],
    [
      'mirror and mirrors',
      vs([{ ...route(dest('a')), mirror: { host: 'b' }, mirrors: [dest('c')] }]),
      'spec.http[0]: only one of mirror, mirrors may be set',
    ],
    [
      'a mirror percentage above 100',
      vs([{ ...route(dest('a')), mirror: { host: 'b' }, mirrorPercentage: { value: 150 } }]),
      'spec.http[0].mirrorPercentage.value: 150 out of range: must be in 0..100',
    ],
    [
      'an invalid redirect code',
      vs([{ redirect: { uri: '/x', redirectCode: 200 } }]),
      'spec.http[0].redirect.redirectCode: redirect code 200 must be one of 301, 302, 303, 307, 308',
    ],
    [
      'an invalid header name to set',
      vs([{ ...route(dest('a')), headers: { request: { set: { 'bad header': 'x' } } } }]),
      'spec.http[0].headers.request.set["bad header"]: invalid header name "bad header"',
    ],
    [
      'an unknown CORS method',
      vs([{ ...route(dest('a')), corsPolicy: { allowMethods: ['FETCH'] } }]),
      'spec.http[0].corsPolicy.allowMethods[0]: unknown HTTP method "FETCH"',
    ],
    [
      'a TLS route without sniHosts',
      { hosts: ['a.com'], tls: [{ match: [{ port: 443 }], route: [dest('a')] }] },
      'spec.tls[0].match[0].sniHosts: required',
    ],
    [
      'a TCP route without destinations',
      { hosts: ['db'], tcp: [{ route: [] }] },
      'spec.tcp[0].route: at least one destination is required',
    ],
    [
      'a bad gateway reference',
      vs([route(dest('a'))], { gateways: ['a/b/c'] }),
      'spec.gateways[0]: invalid gateway reference "a/b/c": expected "mesh", "name" or "namespace/name"',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('VirtualService', spec)).toContain(expected);
  });

  it('warns about deprecated fields without rejecting', () => {
    expect(
      problemsOf('VirtualService', vs([{ ...route(dest('a')), mirror: { host: 'b' }, mirrorPercent: 5 }])),
    ).toEqual(['warning spec.http[0].mirrorPercent: deprecated: use mirrorPercentage']);
  });
});
