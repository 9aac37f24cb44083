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
      'spec.http[0].redirect.redirectCode: 200 out of range: must be in 300..399',
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

describe('VirtualService checks shared with Istio’s validation', () => {
  it.each([
    [
      'a redirect that changes nothing',
      vs([{ redirect: { redirectCode: 302 } }]),
      'spec.http[0].redirect: must set at least one of uri, prefixRewrite, authority, port, derivePort, scheme',
    ],
    [
      'a redirect scheme other than http(s)',
      vs([{ redirect: { scheme: 'ftp' } }]),
      'spec.http[0].redirect.scheme: unknown value "ftp"; expected one of http, https',
    ],
    [
      'prefixRewrite with an exact uri match',
      vs([{ match: [{ uri: { exact: '/a' } }], redirect: { prefixRewrite: '/' } }]),
      'spec.http[0].redirect.prefixRewrite: requires every uri match of the route to be a prefix match',
    ],
    [
      'redirect with fault',
      vs([{ redirect: { uri: '/a' }, fault: { abort: { httpStatus: 500 } } }]),
      'spec.http[0]: redirect cannot be combined with fault',
    ],
    [
      'a rewrite that changes nothing',
      vs([{ ...route(dest('a')), rewrite: {} }]),
      'spec.http[0].rewrite: must set at least one of uri, uriRegexRewrite, authority',
    ],
    [
      'the authority rewritten twice',
      vs([
        {
          ...route(dest('a')),
          rewrite: { authority: 'a' },
          headers: { request: { set: { ':authority': 'b' } } },
        },
      ]),
      'spec.http[0]: the authority is rewritten more than once (a, b)',
    ],
    [
      'setting Host',
      vs([{ ...route(dest('a')), headers: { request: { set: { Host: 'x' } } } }]),
      'spec.http[0].headers.request.set.Host: the Host header cannot be modified (use rewrite.authority)',
    ],
    [
      'setting a pseudo-header on the response',
      vs([{ ...route(dest('a')), headers: { response: { set: { ':status': '200' } } } }]),
      'spec.http[0].headers.response.set[":status"]: ":status": pseudo-headers cannot be modified',
    ],
    [
      'a header value with a newline',
      vs([{ ...route(dest('a')), headers: { request: { add: { 'x-a': 'b\nc' } } } }]),
      'spec.http[0].headers.request.add.x-a: header value contains control characters',
    ],
    [
      'an empty header prefix match',
      vs([{ match: [{ headers: { 'x-a': { prefix: '' } } }], ...route(dest('a')) }]),
      'spec.http[0].match[0].headers.x-a.prefix: must not be empty (an empty prefix is only allowed for uri)',
    ],
    [
      'an empty regex',
      vs([{ match: [{ uri: { regex: '' } }], ...route(dest('a')) }]),
      'spec.http[0].match[0].uri.regex: regex must not be empty',
    ],
    [
      'destination host "*"',
      vs([route(dest('*'))]),
      'spec.http[0].route[0].destination.host: destination host cannot be "*"',
    ],
    [
      'an invalid subset name',
      vs([route(dest('a', { subset: 'V_1' }))]),
      'spec.http[0].route[0].destination.subset: subset name "V_1" must be a DNS-1123 label',
    ],
    [
      'a bad sourceNamespace',
      vs([{ match: [{ sourceNamespace: 'Not_A_Namespace' }], ...route(dest('a')) }]),
      'spec.http[0].match[0].sourceNamespace: "Not_A_Namespace" is not a namespace name',
    ],
    [
      'a direct response body over 1 MiB',
      vs([{ directResponse: { status: 200, body: { string: 'x'.repeat(1024 * 1024 + 1) } } }]),
      'spec.http[0].directResponse.body: body is 1048577 bytes; at most 1 MiB is allowed',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('VirtualService', spec)).toContain(expected);
  });

  it.each([
    [
      'an empty uri prefix (matches everything)',
      vs([{ match: [{ uri: { prefix: '' } }], ...route(dest('a')) }]),
    ],
    [
      'withoutHeaders regex "*" (header present)',
      vs([{ match: [{ withoutHeaders: { 'x-debug': { regex: '*' } } }], ...route(dest('a')) }]),
    ],
    ['a 3xx redirect code Istio accepts', vs([{ redirect: { uri: '/b', redirectCode: 399 } }])],
    [
      'rewriting :authority through headers',
      vs([{ ...route(dest('a')), headers: { request: { set: { ':authority': 'b' } } } }]),
    ],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('VirtualService', spec)).toEqual([]);
  });
});
