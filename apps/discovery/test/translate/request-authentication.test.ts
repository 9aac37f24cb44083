/**
 * RequestAuthentication by simulation: the jwt_authn providers generated for
 * the receiving workload, and requests with and without tokens through them
 * and the RBAC filters that read their claims; policies on the gateway.
 */
import { LISTENER_TYPE_URL } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { simulateInbound } from '../../src/translate/index.ts';
import { docs, generate, router, securityHead, serviceYaml } from './builders.ts';
import {
  ISSUER,
  policy,
  requestAuthentication,
  reviews,
  reviewsV1,
  SELECT_REVIEWS,
  token,
} from './security-fixtures.ts';

describe('RequestAuthentication -> jwt_authn', () => {
  const providers = (yaml: string) => {
    const generated = generate(docs(reviews, yaml), reviewsV1());
    const text = JSON.stringify(generated.resources[LISTENER_TYPE_URL]);
    const config =
      /"name":"envoy\.filters\.http\.jwt_authn","typedConfig":(\{.*?"bypassCorsPreflight":true\})/.exec(
        text,
      )?.[1];
    return {
      config: config ? (JSON.parse(config) as Record<string, unknown>) : undefined,
      warnings: generated.warnings,
    };
  };
  const ra = (rules: string) =>
    `${securityHead('RequestAuthentication', 'jwt')}\n${SELECT_REVIEWS}\n  jwtRules:\n${rules}`;

  it('fetches a remote JWKS through the outbound cluster of its host, and requires "any provider or no token"', () => {
    const idp = serviceYaml({
      name: 'idp',
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      workloads: { v1: '127.0.0.20' },
    });
    const { config, warnings } = providers(
      docs(
        idp,
        ra(
          '  - { issuer: idp, jwksUri: "https://idp.default.svc.cluster.local/keys", timeout: 2s, forwardOriginalToken: true, fromHeaders: [{ name: x-token, prefix: "Bearer " }] }',
        ),
      ),
    );
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      providers: {
        'origins-0': {
          issuer: 'idp',
          remoteJwks: {
            httpUri: {
              uri: 'https://idp.default.svc.cluster.local/keys',
              cluster: 'outbound|443||idp.default.svc.cluster.local',
              timeout: { seconds: 2 },
            },
          },
          forward: true,
          fromHeaders: [{ name: 'x-token', valuePrefix: 'Bearer ' }],
          payloadInMetadata: 'payload',
        },
      },
      rules: [
        {
          match: { prefix: '/' },
          requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { allowMissing: {} }] } },
        },
      ],
    });
  });

  it('warns when the JWKS host is not a mesh service', () => {
    const { warnings } = providers(ra('  - { issuer: ext, jwksUri: "https://login.example.com/jwks" }'));
    expect(warnings).toContain(
      'RequestAuthentication default/jwt jwtRules[0]: jwksUri host login.example.com:443 is not a service in the mesh; add a ServiceEntry for it',
    );
  });

  it('lets requests without a token through to AuthorizationPolicy (requestPrincipals decides)', () => {
    const requireJwt = policy(
      'require-jwt',
      `${SELECT_REVIEWS}\n  rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }]`,
    );
    const resources = generate(docs(reviews, requestAuthentication, requireJwt), reviewsV1()).resources;
    expect(simulateInbound(resources, { port: 9080, http: { path: '/' } })).toMatchObject({
      outcome: 'denied',
      status: 403,
    });
    expect(simulateInbound(resources, { port: 9080, http: { path: '/' }, jwt: token({}) })).toMatchObject({
      outcome: 'allowed',
    });
  });

  it('matches one scope of a space-delimited scope claim', () => {
    const byScope = policy(
      'by-scope',
      `${SELECT_REVIEWS}\n  rules: [{ when: [{ key: "request.auth.claims[scope]", values: [write] }] }]`,
    );
    const resources = generate(docs(reviews, requestAuthentication, byScope), reviewsV1()).resources;
    const as = (scope: string) =>
      simulateInbound(resources, { port: 9080, http: { path: '/' }, jwt: token({ scope }) }).outcome;
    expect([as('read write'), as('read'), as('rewrite')]).toEqual(['allowed', 'denied', 'denied']);
  });

  it('matches requestPrincipals ISSUER/SUBJECT exactly', () => {
    const bySubject = policy(
      'by-subject',
      `${SELECT_REVIEWS}\n  rules: [{ from: [{ source: { requestPrincipals: ["${ISSUER}/jason"] } }] }]`,
    );
    const resources = generate(docs(reviews, requestAuthentication, bySubject), reviewsV1()).resources;
    const as = (sub: string) =>
      simulateInbound(resources, { port: 9080, http: { path: '/' }, jwt: token({ sub }) }).outcome;
    expect([as('jason'), as('mallory')]).toEqual(['allowed', 'denied']);
  });
});

describe('policies on the ingress gateway', () => {
  it('puts jwt_authn and RBAC on the gateway HCM for policies selecting its labels', () => {
    const gateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }]`;
    const select = '  selector: { matchLabels: { istio: ingressgateway } }';
    const yaml = docs(
      reviews,
      gateway,
      policy(
        'gw-deny',
        `${select}\n  action: DENY\n  rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }]`,
        'istio-system',
      ),
      `${securityHead('RequestAuthentication', 'gw-jwt', 'istio-system')}\n${select}\n  jwtRules: [{ issuer: x, jwks: '{"keys":[]}' }]`,
    );
    const text = JSON.stringify(generate(yaml, router()).resources[LISTENER_TYPE_URL]);
    expect(text).toContain('"name":"envoy.filters.http.jwt_authn"');
    expect(text).toContain('ns[istio-system]-policy[gw-deny]-rule[0]');
    expect(text).toContain('"forwardClientCertDetails":"SANITIZE_SET"');
  });
});
