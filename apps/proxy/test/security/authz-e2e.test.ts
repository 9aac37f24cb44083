/**
 * AuthorizationPolicy and RequestAuthentication end to end: weft-discovery
 * translates Istio YAML into RBAC and jwt_authn filters on the server
 * proxy's inbound chain; three client proxies with different identities
 * (productpage and ratings in `default`, tool in `admin`) send requests
 * over mTLS; JWTs are signed here with jose and verified against the
 * RequestAuthentication's inline JWKS. Each case states the status the
 * client must see.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMeshConfigDir,
  type DiscoveryProcess,
  eventually,
  freePort,
  type MeshConfigDir,
  startDiscoveryProcess,
} from '../support/processes.ts';
import {
  type CaProcess,
  istioObject,
  type MeshProxy,
  reviewsService,
  SERVER_IP,
  SERVICE_HOST,
  SERVICE_PORT,
  type ServerApp,
  startCaProcess,
  startMeshProxy,
  startServerApp,
  writeConfig,
} from './mesh-fixture.ts';

const ISSUER = 'https://issuer.weft.test';
type ClientName = 'productpage' | 'ratings' | 'tool';

let ca: CaProcess;
let discovery: DiscoveryProcess;
let config: MeshConfigDir;
let workDir: string;
let app: ServerApp;
let server: MeshProxy;
const clients = new Map<ClientName, MeshProxy>();
const tokens = new Map<string, string>();

async function send(from: ClientName, method: string, path: string, headers: Record<string, string> = {}) {
  const client = clients.get(from)!;
  const response = await request(`http://127.0.0.1:${client.outboundPort}${path}`, {
    method,
    headers: { host: `${SERVICE_HOST}:${SERVICE_PORT}`, ...headers },
  });
  await response.body.text();
  return response.statusCode;
}

function policies(jwks: string) {
  return [
    istioObject('AuthorizationPolicy', 'reviews-allow', {
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/default/sa/productpage'] } }],
          to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/reviews/*'] } }],
        },
        { from: [{ source: { namespaces: ['admin'] } }] },
        {
          from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }],
          when: [{ key: 'request.auth.claims[groups]', values: ['reviewers'] }],
        },
        { to: [{ operation: { paths: ['/healthz'] } }] },
        { when: [{ key: 'request.headers[x-api-version]', values: ['v2*'] }] },
      ],
    }),
    istioObject('AuthorizationPolicy', 'reviews-deny', {
      action: 'DENY',
      rules: [
        { to: [{ operation: { methods: ['DELETE'] } }] },
        { when: [{ key: 'request.headers[x-block]', values: ['*'] }] },
      ],
    }),
    istioObject('RequestAuthentication', 'reviews-jwt', { jwtRules: [{ issuer: ISSUER, jwks }] }),
  ];
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'weft-authz-e2e-'));
  const signing = await generateKeyPair('ES256');
  const rogue = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const sign = (
    key: Parameters<SignJWT['sign']>[0],
    claims: Record<string, unknown>,
    issuer = ISSUER,
    expiresIn: string | number = '1h',
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(key);
  tokens.set('reviewers', await sign(signing.privateKey, { groups: ['reviewers'] }));
  tokens.set('others', await sign(signing.privateKey, { groups: ['others'] }));
  tokens.set('rogue', await sign(rogue.privateKey, { groups: ['reviewers'] }));
  tokens.set('other-issuer', await sign(signing.privateKey, { groups: ['reviewers'] }, 'https://evil.test'));
  tokens.set(
    'expired',
    await sign(signing.privateKey, { groups: ['reviewers'] }, ISSUER, Math.floor(Date.now() / 1000) - 60),
  );
  ca = await startCaProcess(['--cert-ttl', '1h']);
  config = await createMeshConfigDir();
  const workloadPort = await freePort(SERVER_IP);
  await writeConfig(config.dir, 'reviews.yaml', reviewsService(workloadPort));
  await writeConfig(config.dir, 'mtls.yaml', [
    istioObject('PeerAuthentication', 'default', { mtls: { mode: 'STRICT' } }),
  ]);
  await writeConfig(config.dir, 'policies.yaml', policies(JSON.stringify({ keys: [jwk] })));
  discovery = await startDiscoveryProcess(config.dir);
  app = await startServerApp(workloadPort);
  const common = { discovery: discovery.xdsAddress, ca, workDir } as const;
  server = await startMeshProxy({
    ...common,
    workload: 'reviews-v1',
    namespace: 'default',
    serviceAccount: 'reviews',
    ip: SERVER_IP,
    extraArgs: ['--metadata', 'LOCAL_APP_ADDRESS=127.0.1.2'],
  });
  const specs: Array<[ClientName, string, string, string]> = [
    ['productpage', 'default', 'productpage', '127.0.0.3'],
    ['ratings', 'default', 'ratings', '127.0.0.4'],
    ['tool', 'admin', 'tool', '127.0.0.5'],
  ];
  for (const [name, namespace, serviceAccount, ip] of specs) {
    clients.set(
      name,
      await startMeshProxy({
        ...common,
        workload: `${name}-v1`,
        namespace,
        serviceAccount,
        ip,
        outbound: true,
      }),
    );
  }
  await eventually(
    'policies in force',
    async () => (await send('ratings', 'GET', '/reviews/1')) === 403,
    15_000,
  );
  await eventually(
    'productpage allowed',
    async () => (await send('productpage', 'GET', '/reviews/1')) === 200,
    15_000,
  );
  // Every client proxy serving (its outbound listener up with the route), not only the two above.
  await eventually('tool allowed', async () => (await send('tool', 'POST', '/anything')) === 200, 15_000);
}, 90_000);

afterAll(async () => {
  for (const client of clients.values()) await client.stop();
  await server?.stop();
  await app?.close();
  await discovery?.stop();
  await ca?.stop();
  await config?.cleanup();
  await rm(workDir, { recursive: true, force: true });
});

type Case = [
  string,
  ClientName,
  string,
  string,
  Record<string, string> | ((t: Map<string, string>) => Record<string, string>),
  number,
];

const bearer = (name: string) => (t: Map<string, string>) => ({ authorization: `Bearer ${t.get(name)}` });

const matrix: Case[] = [
  ['productpage GET /reviews/1: its principal and operation', 'productpage', 'GET', '/reviews/1', {}, 200],
  ['productpage POST /reviews/1: method not granted', 'productpage', 'POST', '/reviews/1', {}, 403],
  ['productpage GET /ratings: path not granted', 'productpage', 'GET', '/ratings', {}, 403],
  ['ratings GET /reviews/1: another principal', 'ratings', 'GET', '/reviews/1', {}, 403],
  ['ratings GET /healthz: open path', 'ratings', 'GET', '/healthz', {}, 200],
  ['tool (namespace admin) POST /anything: namespace granted', 'tool', 'POST', '/anything', {}, 200],
  ['tool DELETE /reviews/1: DENY wins over ALLOW', 'tool', 'DELETE', '/reviews/1', {}, 403],
  [
    'productpage with x-block: DENY by header presence',
    'productpage',
    'GET',
    '/reviews/1',
    { 'x-block': '1' },
    403,
  ],
  [
    'ratings with x-api-version v2.1: header prefix granted',
    'ratings',
    'GET',
    '/x',
    { 'x-api-version': 'v2.1' },
    200,
  ],
  [
    'ratings with x-api-version v1: header not granted',
    'ratings',
    'GET',
    '/x',
    { 'x-api-version': 'v1' },
    403,
  ],
  ['ratings with a JWT in group reviewers: claim granted', 'ratings', 'GET', '/x', bearer('reviewers'), 200],
  ['ratings with a JWT in another group: claim not granted', 'ratings', 'GET', '/x', bearer('others'), 403],
  ['ratings with a JWT signed by an unknown key: 401', 'ratings', 'GET', '/x', bearer('rogue'), 401],
  ['ratings with a JWT of another issuer: 401', 'ratings', 'GET', '/x', bearer('other-issuer'), 401],
  ['ratings with an expired JWT: 401', 'ratings', 'GET', '/x', bearer('expired'), 401],
  [
    'ratings with the JWT as access_token query parameter: granted',
    'ratings',
    'GET',
    `/x?access_token=TOKEN`,
    {},
    200,
  ],
];

describe('AuthorizationPolicy and RequestAuthentication through real proxies', () => {
  it.each(matrix)('%s', async (_name, from, method, path, headers, expected) => {
    const resolved = typeof headers === 'function' ? headers(tokens) : headers;
    const status = await send(from, method, path.replace('TOKEN', tokens.get('reviewers')!), resolved);
    expect(status).toBe(expected);
  });

  it('never lets a denied request reach the application', async () => {
    const before = app.seen.length;
    expect(await send('ratings', 'GET', '/denied-probe')).toBe(403);
    expect(app.seen.slice(before).some((r) => r.url === '/denied-probe')).toBe(false);
  });

  it('never logs a JWT', () => {
    for (const proxy of [server, ...clients.values()])
      for (const token of tokens.values()) expect(proxy.logs()).not.toContain(token);
  });
});
