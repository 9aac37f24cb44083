/**
 * Every generated resource must encode against Envoy's protos (through
 * @weft/xds's encodeResource, the same path the server takes), for bookinfo
 * and for a large generated mesh that exercises most translation features.
 */
import type { Resource } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import type { Proxy as MeshProxy } from '../../src/model/index.ts';
import { generateResources } from '../../src/translate/index.ts';
import {
  bookinfo,
  docs,
  istio,
  proxyless,
  push,
  router,
  securityHead,
  serviceYaml,
  sidecar,
} from './builders.ts';
import { largeMesh } from './large-mesh.ts';
import { encodeProblems } from './validators.ts';

function count(resources: Partial<Record<string, readonly Resource[]>>): number {
  return Object.values(resources).reduce((n, list) => n + (list?.length ?? 0), 0);
}

let large: ReturnType<typeof push> | undefined;
/** The 150-service push context, parsed once for the three proxies. */
function largeContext(): ReturnType<typeof push> {
  large ??= push(istio(largeMesh(150)));
  return large;
}

const PROXIES: [string, () => MeshProxy][] = [
  ['a sidecar', () => sidecar({ ip: '127.0.0.2', name: 'svc0-v1', labels: { app: 'svc0', version: 'v1' } })],
  ['a gateway', () => router()],
  ['a proxyless client', () => proxyless()],
];

describe('generated resources encode with @weft/xds', () => {
  it.each([
    [
      'productpage-v1',
      () =>
        sidecar({ ip: '127.0.0.2', name: 'productpage-v1', labels: { app: 'productpage', version: 'v1' } }),
    ],
    [
      'reviews-v1 (STRICT, RBAC)',
      () => sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } }),
    ],
    ...PROXIES.slice(1),
  ] as [string, () => MeshProxy][])('bookinfo for %s', async (_name, proxy) => {
    const generated = generateResources(proxy(), push(await bookinfo()));
    expect(count(generated.resources)).toBeGreaterThan(3);
    expect(encodeProblems(generated.resources)).toEqual([]);
  });

  it('every security feature (mTLS modes, RBAC HTTP and network, jwt_authn local and remote JWKS)', () => {
    const yaml = docs(
      serviceYaml({
        name: 'reviews',
        ports: [
          { number: 9080, name: 'http', protocol: 'HTTP' },
          { number: 9090, name: 'tcp', protocol: 'TCP' },
        ],
        workloads: { v1: '127.0.0.4' },
      }),
      serviceYaml({
        name: 'idp',
        ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
        workloads: { v1: '127.0.0.20' },
      }),
      `${securityHead('PeerAuthentication', 'reviews')}
  selector: { matchLabels: { app: reviews } }
  mtls: { mode: STRICT }
  portLevelMtls: { "9090": { mode: PERMISSIVE } }`,
      `${securityHead('AuthorizationPolicy', 'deny')}
  action: DENY
  rules:
  - from: [{ source: { notNamespaces: [default], ipBlocks: [10.0.0.0/8], notRemoteIpBlocks: ["192.168.0.1"] } }]
    to: [{ operation: { notPaths: ["/public*"], hosts: ["*.example"], ports: ["9080"] } }]
    when:
    - { key: "request.auth.claims[realm][roles]", values: [admin] }
    - { key: destination.ip, notValues: [127.0.0.1] }
    - { key: connection.sni, values: ["*.local"] }`,
      `${securityHead('AuthorizationPolicy', 'audit')}
  action: AUDIT
  rules: [{ from: [{ source: { requestPrincipals: ["*"], serviceAccounts: [default/sa] } }] }]`,
      `${securityHead('RequestAuthentication', 'jwt')}
  jwtRules:
  - issuer: https://idp.default.svc.cluster.local
    jwksUri: https://idp.default.svc.cluster.local/keys
    fromHeaders: [{ name: x-token, prefix: "Bearer " }]
    fromParams: [token]
    forwardOriginalToken: true
    outputPayloadToHeader: x-jwt
    outputClaimToHeaders: [{ header: x-sub, claim: sub }]
  - issuer: local
    jwks: '{"keys":[]}'`,
    );
    const proxy = sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });
    const generated = generateResources(proxy, push(istio(yaml)));
    const text = JSON.stringify(generated.resources);
    for (const needle of [
      'envoy.filters.http.rbac',
      'envoy.filters.network.rbac',
      'envoy.filters.http.jwt_authn',
      'remoteJwks',
      'localJwks',
      'transportSocketMatches',
    ])
      expect(text).toContain(needle);
    expect(encodeProblems(generated.resources)).toEqual([]);
  });

  it.each(PROXIES)('a large generated mesh (150 services) for %s', (_name, proxy) => {
    const context = largeContext();
    const generated = generateResources(proxy(), context);
    expect(count(generated.resources)).toBeGreaterThan(150 * 4);
    expect(encodeProblems(generated.resources)).toEqual([]);
  });
});
