import { describe, expect, it } from 'vitest';
import { errorsOf, problemsOf } from '../../test/kind-builders.ts';

describe('PeerAuthentication', () => {
  it.each([
    ['mesh-wide STRICT', { mtls: { mode: 'STRICT' } }],
    ['an empty spec (inherit)', {}],
    [
      'port-level mTLS with a selector',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { 8080: { mode: 'DISABLE' } } },
    ],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('PeerAuthentication', spec)).toEqual([]);
  });

  it.each([
    [
      'an unknown mode',
      { mtls: { mode: 'ON' } },
      'spec.mtls.mode: unknown value "ON"; expected one of UNSET, DISABLE, PERMISSIVE, STRICT',
    ],
    [
      'port-level mTLS without selector',
      { portLevelMtls: { 8080: { mode: 'DISABLE' } } },
      'spec.portLevelMtls: portLevelMtls requires a selector with matchLabels',
    ],
    [
      'a port key that is not a number',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { http: { mode: 'DISABLE' } } },
      'spec.portLevelMtls.http: port "http" must be a number in 1..65535',
    ],
    [
      'an empty port-level map',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: {} },
      'spec.portLevelMtls: must list at least one port when set',
    ],
    [
      'a selector with matchExpressions',
      { selector: { matchExpressions: [] } },
      'spec.selector.matchExpressions: unknown field',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('PeerAuthentication', spec)).toContain(expected);
  });
});

const rule = (r: Record<string, unknown>) => ({ rules: [r] });

describe('AuthorizationPolicy', () => {
  it.each([
    ['allow-nothing (empty spec)', {}],
    ['allow-all (one empty rule)', { rules: [{}] }],
    [
      'a DENY with from/to/when',
      {
        action: 'DENY',
        ...rule({
          from: [{ source: { notNamespaces: ['foo'] } }],
          to: [{ operation: { methods: ['POST'], paths: ['/admin*'] } }],
          when: [{ key: 'request.headers[x-token]', notValues: ['secret'] }],
        }),
      },
    ],
    ['CUSTOM with a provider', { action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{}] }],
    ['ports and suffix paths', rule({ to: [{ operation: { ports: ['8080'], notPaths: ['*.png'] } }] })],
    ['path templates', rule({ to: [{ operation: { paths: ['/path/{*}', '/{**}/template'] } }] })],
    ['trust domains', rule({ from: [{ source: { trustDomains: ['cluster.local', 'td-*'] } }] })],
    [
      'a same-namespace targetRef',
      { targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'g', namespace: 'default' } },
    ],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('AuthorizationPolicy', spec)).toEqual([]);
  });

  it.each([
    [
      'an unknown action',
      { action: 'PERMIT' },
      'spec.action: unknown value "PERMIT"; expected one of ALLOW, DENY, AUDIT, CUSTOM',
    ],
    [
      'CUSTOM without provider',
      { action: 'CUSTOM', rules: [{}] },
      'spec.provider: required with action CUSTOM',
    ],
    [
      'a provider without CUSTOM',
      { provider: { name: 'x' }, rules: [{}] },
      'spec.provider: only allowed with action CUSTOM',
    ],
    [
      'an empty source',
      rule({ from: [{ source: {} }] }),
      'spec.rules[0].from[0].source: source must set at least one field',
    ],
    [
      'an empty operation',
      rule({ to: [{ operation: {} }] }),
      'spec.rules[0].to[0].operation: operation must set at least one field',
    ],
    [
      'a bad IP block',
      rule({ from: [{ source: { ipBlocks: ['10.0.0.300'] } }] }),
      'spec.rules[0].from[0].source.ipBlocks[0]: "10.0.0.300" is not an IP address or CIDR block',
    ],
    [
      'a bad port',
      rule({ to: [{ operation: { ports: ['http'] } }] }),
      'spec.rules[0].to[0].operation.ports[0]: port "http" must be a number in 1..65535',
    ],
    [
      'a path template with a stray wildcard',
      rule({ to: [{ operation: { paths: ['/{*}/a*b'] } }] }),
      'spec.rules[0].to[0].operation.paths[0]: path template "/{*}/a*b" allows only {*} and {**}',
    ],
    [
      'serviceAccounts with namespaces',
      rule({ from: [{ source: { serviceAccounts: ['bar/sa'], namespaces: ['bar'] } }] }),
      'spec.rules[0].from[0].source: serviceAccounts cannot be combined with principals or namespaces',
    ],
    [
      'a cross-namespace targetRef',
      { targetRef: { kind: 'Service', name: 'a', namespace: 'other' } },
      'spec.targetRef.namespace: cross-namespace references are not supported (policy is in default)',
    ],
    [
      'a bad targetRef kind',
      { targetRef: { group: '', kind: 'Serv_ice', name: 'a' } },
      'spec.targetRef.kind: invalid kind "Serv_ice"',
    ],
    [
      'a wildcard in the middle',
      rule({ from: [{ source: { principals: ['cluster.local/*/sa/x'] } }] }),
      'spec.rules[0].from[0].source.principals[0]: "cluster.local/*/sa/x": "*" is only allowed at the start or the end',
    ],
    [
      'an unknown condition key',
      rule({ when: [{ key: 'request.body', values: ['x'] }] }),
      'spec.rules[0].when[0].key: unknown condition key "request.body"',
    ],
    [
      'a condition without values',
      rule({ when: [{ key: 'source.ip' }] }),
      'spec.rules[0].when[0]: one of values, notValues must be set',
    ],
    [
      'a source without its wrapper',
      rule({ from: [{ principals: ['x'] }] }),
      'spec.rules[0].from[0].principals: unknown field',
    ],
    [
      'selector and targetRef',
      { selector: { matchLabels: { a: 'b' } }, targetRef: { kind: 'Gateway', name: 'g' } },
      'spec: only one of selector, targetRef may be set',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('AuthorizationPolicy', spec)).toContain(expected);
  });

  it('warns that a path without a leading slash never matches (Istio accepts it)', () => {
    expect(problemsOf('AuthorizationPolicy', rule({ to: [{ operation: { paths: ['admin'] } }] }))).toEqual([
      'warning spec.rules[0].to[0].operation.paths[0]: path "admin" does not start with "/" and never matches',
    ]);
  });

  it.each([
    ['DENY', 'error spec.rules: a DENY policy without rules never matches'],
    ['CUSTOM', 'error spec.rules: a CUSTOM policy without rules never matches'],
    ['AUDIT', 'warning spec.rules: an AUDIT policy without rules matches nothing'],
  ])('flags a %s policy without rules', (action, expected) => {
    const extra = action === 'CUSTOM' ? { provider: { name: 'ext' } } : {};
    expect(problemsOf('AuthorizationPolicy', { action, ...extra })).toContain(expected);
  });

  it.each([
    ['an empty from list', rule({ from: [] }), 'spec.rules[0].from: must not be empty'],
    ['an empty to list', rule({ to: [] }), 'spec.rules[0].to: must not be empty'],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('AuthorizationPolicy', spec)).toContain(expected);
  });
});

const jwt = (r: Record<string, unknown>) => ({ jwtRules: [{ issuer: 'https://issuer.example.com', ...r }] });

describe('RequestAuthentication', () => {
  it.each([
    ['a jwksUri', jwt({ jwksUri: 'https://issuer.example.com/jwks.json', audiences: ['api'] })],
    ['inline jwks', jwt({ jwks: '{"keys":[]}' })],
    [
      'a jwksUri without issuer (Istio accepts it)',
      { jwtRules: [{ jwksUri: 'https://x.example.com/jwks' }] },
    ],
    [
      'header and param locations',
      jwt({ fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }], fromParams: ['token'] }),
    ],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('RequestAuthentication', spec)).toEqual([]);
  });

  it.each([
    [
      'a rule without issuer or jwksUri',
      { jwtRules: [{ audiences: ['api'] }] },
      'spec.jwtRules[0]: one of issuer, jwksUri must be set',
    ],
    [
      'jwks and jwksUri',
      jwt({ jwks: '{"keys":[]}', jwksUri: 'https://x/jwks' }),
      'spec.jwtRules[0]: only one of jwksUri, jwks may be set',
    ],
    [
      'a jwksUri that is not a URL',
      jwt({ jwksUri: 'not a url' }),
      'spec.jwtRules[0].jwksUri: jwksUri "not a url" is not a URL',
    ],
    ['jwks that is not JSON', jwt({ jwks: '{keys' }), 'spec.jwtRules[0].jwks: jwks is not valid JSON'],
    [
      'jwks without keys',
      jwt({ jwks: '{"kty":"RSA"}' }),
      'spec.jwtRules[0].jwks: jwks must be a JSON Web Key Set with a "keys" list',
    ],
    [
      'a header rule without name',
      jwt({ fromHeaders: [{ prefix: 'Bearer ' }] }),
      'spec.jwtRules[0].fromHeaders[0].name: required',
    ],
    [
      'a claim-to-header without claim',
      jwt({ outputClaimToHeaders: [{ header: 'x-sub' }] }),
      'spec.jwtRules[0].outputClaimToHeaders[0].claim: required',
    ],
    [
      'a repeated issuer',
      { jwtRules: [{ issuer: 'a' }, { issuer: 'a' }] },
      'spec.jwtRules[1].issuer: issuer "a" is already used by jwtRules[0]',
    ],
    ['an empty audience', jwt({ audiences: [''] }), 'spec.jwtRules[0].audiences[0]: must not be empty'],
    [
      'a pseudo-header as output',
      jwt({ outputClaimToHeaders: [{ header: ':authority', claim: 'x' }] }),
      'spec.jwtRules[0].outputClaimToHeaders[0].header: ":authority" is a pseudo-header and cannot be set',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('RequestAuthentication', spec)).toContain(expected);
  });
});
