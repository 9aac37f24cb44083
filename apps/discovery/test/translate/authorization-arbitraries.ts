/**
 * fast-check arbitraries for AuthorizationPolicies over a small vocabulary
 * (principals, namespaces, paths, methods, headers, claims, IP blocks), and
 * for the requests that exercise them.
 */
import fc from 'fast-check';
import type { SimulatedInboundRequest } from '../../src/translate/index.ts';
import { securityHead, spiffe } from './builders.ts';

const ACCOUNTS = ['productpage', 'ratings', 'ops'] as const;
const NAMESPACES = ['default', 'admin'] as const;

const list = (values: readonly string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
const some = <T>(values: readonly T[]) => fc.subarray([...values], { minLength: 1 });
/** Istio rejects a `source: {}` or `operation: {}`: at least one field must be set. */
const setsAField = (fields: object) => Object.keys(fields).length > 0;

const sourceArb = fc
  .record(
    {
      principals: some(ACCOUNTS.flatMap((a) => NAMESPACES.map((n) => `cluster.local/ns/${n}/sa/${a}`))),
      notPrincipals: some(['cluster.local/ns/default/sa/ratings', '*']),
      namespaces: some(NAMESPACES),
      notNamespaces: some(NAMESPACES),
      ipBlocks: some(['10.0.0.0/8', '127.0.0.1']),
      requestPrincipals: some(['https://issuer.example/*', 'https://issuer.example/jason', '*']),
    },
    { requiredKeys: [] },
  )
  .filter(setsAField)
  .map((source) =>
    Object.entries(source)
      .map(([key, values]) => `${key}: ${list(values as string[])}`)
      .join(', '),
  );

const operationArb = fc
  .record(
    {
      methods: some(['GET', 'POST', 'DELETE']),
      notMethods: some(['GET']),
      paths: some(['/reviews/*', '/healthz', '*/admin', '/admin*']),
      notPaths: some(['/healthz']),
      hosts: some(['*.internal', 'reviews']),
      ports: some(['9080', '8080']),
    },
    { requiredKeys: [] },
  )
  .filter(setsAField)
  .map((operation) =>
    Object.entries(operation)
      .map(([key, values]) => `${key}: ${list(values as string[])}`)
      .join(', '),
  );

const conditionArb = fc.constantFrom(
  '{ key: "request.headers[x-tier]", values: [gold] }',
  '{ key: "request.auth.claims[groups]", values: [reviewers] }',
  '{ key: source.namespace, notValues: [admin] }',
  '{ key: destination.port, values: ["9080"] }',
  '{ key: source.ip, values: [127.0.0.0/8] }',
);

const ruleArb = fc
  .record({
    from: fc.array(sourceArb, { maxLength: 2 }),
    to: fc.array(operationArb, { maxLength: 2 }),
    when: fc.array(conditionArb, { maxLength: 2 }),
  })
  .map(({ from, to, when }) => {
    const parts = [
      ...(from.length ? [`from: [${from.map((s) => `{ source: { ${s} } }`).join(', ')}]`] : []),
      ...(to.length ? [`to: [${to.map((o) => `{ operation: { ${o} } }`).join(', ')}]`] : []),
      ...(when.length ? [`when: [${when.join(', ')}]`] : []),
    ];
    return `{ ${parts.join(', ')} }`;
  });

/** A random AuthorizationPolicy selecting `app`, named `name`, with the given (or a random) action. */
export function authorizationPolicyArb(
  app: string,
  name = 'random',
  action?: 'ALLOW' | 'DENY' | 'AUDIT',
): fc.Arbitrary<string> {
  return fc
    .record({
      action: action ? fc.constant(action) : fc.constantFrom('ALLOW', 'DENY', 'AUDIT'),
      rules: fc.option(fc.array(ruleArb, { maxLength: 3 }), { nil: undefined }),
    })
    .filter(({ action: a, rules }) => a === 'ALLOW' || (rules?.length ?? 0) > 0)
    .map(
      ({ action: a, rules }) =>
        `${securityHead('AuthorizationPolicy', name)}\n  selector: { matchLabels: { app: ${app} } }\n  action: ${a}${rules === undefined ? '' : `\n  rules: [${rules.join(', ')}]`}`,
    );
}

/** A random request to port 9080 from a mesh peer or a plaintext client, maybe with a JWT. */
export const inboundRequestArb: fc.Arbitrary<SimulatedInboundRequest> = fc
  .record({
    account: fc.option(fc.constantFrom(...ACCOUNTS), { nil: undefined }),
    namespace: fc.constantFrom(...NAMESPACES),
    sourceIp: fc.constantFrom('127.0.0.1', '10.1.2.3'),
    method: fc.constantFrom('GET', 'POST', 'DELETE'),
    path: fc.constantFrom('/reviews/1', '/healthz', '/admin/x', '/x/admin'),
    authority: fc.constantFrom('reviews', 'a.internal'),
    tier: fc.option(fc.constant('gold'), { nil: undefined }),
    jwt: fc.option(
      fc.record({
        sub: fc.constantFrom('jason', 'mallory'),
        groups: fc.constantFrom(['reviewers'], ['viewers']),
      }),
      { nil: undefined },
    ),
  })
  .map((r) => ({
    port: 9080,
    ...(r.account ? { peerPrincipal: spiffe(r.account, r.namespace) } : {}),
    sourceIp: r.sourceIp,
    http: {
      method: r.method,
      path: r.path,
      authority: r.authority,
      headers: (r.tier ? { 'x-tier': r.tier } : {}) as Record<string, string>,
    },
    ...(r.jwt ? { jwt: { payload: { iss: 'https://issuer.example', aud: 'reviews', ...r.jwt } } } : {}),
  }));
