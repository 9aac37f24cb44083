/**
 * jwt_authn with a remote JWKS fetched through its named cluster, and RBAC
 * reading the verified payload: an in-process proxy from static resources,
 * a real JWKS server and a real backend on loopback, tokens signed with
 * jose. Statuses and the JWKS server's fetch count are what is asserted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WeftProxy } from '../../src/proxy.ts';
import {
  filterChain,
  httpConnectionManager,
  httpFilter,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  virtualHost,
} from '../../src/testing/builders.ts';
import { type Backend, startBackend, startStaticProxy } from '../support/harness.ts';

const TYPE = 'type.googleapis.com/';
const ISSUER = 'https://issuer.remote.test';

let proxy: WeftProxy;
let backend: Backend;
let jwksServer: http.Server;
let jwksFetches = 0;
const tokens = new Map<string, string>();

function jwtAuthn(jwksPort: number) {
  return {
    name: 'envoy.filters.http.jwt_authn',
    typedConfig: {
      '@type': `${TYPE}envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication`,
      providers: {
        'origins-0': {
          issuer: ISSUER,
          audiences: ['reviews'],
          remoteJwks: {
            httpUri: { uri: `http://jwks.test:${jwksPort}/keys`, cluster: 'jwks', timeout: '2s' },
            cacheDuration: '300s',
          },
          fromHeaders: [{ name: 'x-jwt', valuePrefix: 'Token ' }],
          payloadInMetadata: 'payload',
          normalizePayloadInMetadata: { spaceDelimitedClaims: ['scope'] },
        },
      },
      rules: [
        {
          match: { prefix: '/' },
          requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { allowMissing: {} }] } },
        },
      ],
    },
  };
}

/** ALLOW /open to anyone; everything else needs scope `read` from the verified JWT. */
function rbacNeedsScope() {
  return {
    name: 'envoy.filters.http.rbac',
    typedConfig: {
      '@type': `${TYPE}envoy.extensions.filters.http.rbac.v3.RBAC`,
      rules: {
        action: 'ALLOW',
        policies: {
          open: { permissions: [{ urlPath: { path: { exact: '/open' } } }], principals: [{ any: true }] },
          scoped: {
            permissions: [{ any: true }],
            principals: [
              {
                metadata: {
                  filter: 'envoy.filters.http.jwt_authn',
                  path: [{ key: 'payload' }, { key: 'scope' }],
                  value: { listMatch: { oneOf: { stringMatch: { exact: 'read' } } } },
                },
              },
            ],
          },
        },
      },
    },
  };
}

beforeAll(async () => {
  const signing = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'remote-1', alg: 'ES256' };
  jwksServer = http.createServer((_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksPort = (jwksServer.address() as AddressInfo).port;
  const sign = (claims: Record<string, unknown>, audience = 'reviews') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'remote-1' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setExpirationTime('1h')
      .sign(signing.privateKey);
  tokens.set('read', await sign({ scope: 'write read' }));
  tokens.set('write', await sign({ scope: 'write' }));
  tokens.set('wrong-audience', await sign({ scope: 'read' }, 'ratings'));
  backend = await startBackend('reviews');
  const hcm = httpConnectionManager(routeConfiguration('r', [virtualHost('v', ['*'], [routeTo('backend')])]));
  const typed = hcm.typedConfig as Record<string, unknown>;
  typed.httpFilters = [jwtAuthn(jwksPort), rbacNeedsScope(), httpFilter('router')];
  proxy = await startStaticProxy({
    clusters: [
      staticCluster('backend', [{ port: backend.port }]),
      staticCluster('jwks', [{ port: jwksPort }]),
    ],
    listeners: [listener('in', 0, [filterChain(hcm)])],
  });
});

afterAll(async () => {
  await proxy?.close();
  await backend?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

async function get(path: string, token?: string) {
  const address = proxy.listenerAddress('in')!;
  const response = await request(`http://127.0.0.1:${address.port}${path}`, {
    headers: token ? { 'x-jwt': `Token ${token}` } : {},
  });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('jwt_authn with a remote JWKS and RBAC on its claims', () => {
  it.each([
    ['a token with scope read (space-delimited claim) is allowed', '/data', 'read', 200],
    ['a token without scope read is denied by RBAC', '/data', 'write', 403],
    ['a token for another audience is rejected', '/data', 'wrong-audience', 401],
    ['a garbled token is rejected', '/data', 'garbled', 401],
    ['no token passes jwt_authn (allowMissing) and RBAC denies', '/data', undefined, 403],
    ['no token on the open path is allowed', '/open', undefined, 200],
  ])('%s', async (_name, path, tokenName, expected) => {
    const token = tokenName === 'garbled' ? 'not.a.jwt' : tokenName ? tokens.get(tokenName) : undefined;
    expect((await get(path, token)).status).toBe(expected);
  });

  it('fetches the JWKS through the cluster once and caches it', () => {
    expect(jwksFetches).toBe(1);
  });

  it('removes the token before forwarding (forward: false)', async () => {
    const before = backend.requests.length;
    expect((await get('/data', tokens.get('read'))).status).toBe(200);
    expect(backend.requests[before]?.headers['x-jwt']).toBeUndefined();
  });
});
