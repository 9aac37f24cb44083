/**
 * Mesh mTLS between two in-process proxies whose identity agents get real
 * certificates from @weft/pki's fake CA (the Istio CA API over TLS):
 * HTTP/1.1 and HTTP/2 (ALPN h2) upstream pools, the server's SAN checked
 * against the cluster's matchers (a wrong expected identity is 503 UF), and
 * the NACK of a TLS listener by a proxy without an agent.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeCa, startFakeCa } from '@weft/pki';
import { createLogger } from '@weft/telemetry';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, resourceFromBody } from '@weft/xds';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IdentityAgent, startIdentityAgent } from '../../src/agent/identity-agent.ts';
import type { Body } from '../../src/config/problems.ts';
import { startProxy, type WeftProxy } from '../../src/proxy.ts';
import {
  filterChain,
  http2ProtocolOptions,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  tcpProxy,
  virtualHost,
} from '../../src/testing/builders.ts';
import { type Backend, NODE_ID, startBackend, waitUntil } from '../support/harness.ts';

const TYPE = 'type.googleapis.com/';
const REVIEWS = 'spiffe://cluster.local/ns/default/sa/reviews';
const PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/productpage';
const sds = (name: string): Body => ({ name, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } });

function commonTlsContext(sanMatchers: Body[], alpn: string[]): Body {
  return {
    tlsCertificateSdsSecretConfigs: [sds('default')],
    combinedValidationContext: {
      defaultValidationContext: { matchTypedSubjectAltNames: sanMatchers },
      validationContextSdsSecretConfig: sds('ROOTCA'),
    },
    alpnProtocols: alpn,
  };
}

/** The server side as discovery generates it: require a client certificate of the trust domain. */
function inboundMtlsChain(cluster: string, network?: Body): Body {
  const hcm = httpConnectionManager(routeConfiguration('in', [virtualHost('v', ['*'], [routeTo(cluster)])]), {
    forwardClientCertDetails: 'SANITIZE_SET',
    setCurrentClientCertDetails: { subject: { value: true }, uri: true, dns: true },
  });
  return {
    ...filterChain(network ?? hcm, { transportProtocol: 'tls' }),
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
        commonTlsContext: commonTlsContext(
          [{ sanType: 'URI', matcher: { prefix: 'spiffe://cluster.local/' } }],
          ['h2', 'http/1.1'],
        ),
        requireClientCertificate: { value: true },
      },
    },
  };
}

/** A client-side cluster to `port` with mesh mTLS expecting `serverId`. */
function mtlsCluster(name: string, port: number, serverId: string, extra: Body = {}): Body {
  return staticCluster(name, [{ port }], {
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
        commonTlsContext: commonTlsContext([{ sanType: 'URI', matcher: { exact: serverId } }], []),
        sni: 'outbound_.9080_._.reviews.default.svc.cluster.local',
      },
    },
    ...extra,
  });
}

let ca: FakeCa;
let dir: string;
let backend: Backend;
const agents: IdentityAgent[] = [];
const proxies: WeftProxy[] = [];

async function agentFor(serviceAccount: string): Promise<IdentityAgent> {
  await writeFile(join(dir, `${serviceAccount}.token`), `token-${serviceAccount}`);
  const agent = startIdentityAgent({
    caAddress: ca.address,
    tokenFile: join(dir, `${serviceAccount}.token`),
    caRootFile: join(dir, 'root.pem'),
    trustDomain: 'cluster.local',
    namespace: 'default',
    serviceAccount,
    certTtlSeconds: 3600,
    logger: createLogger({ name: 'agent', level: 'error' }),
  });
  agents.push(agent);
  await agent.ready();
  return agent;
}

async function proxyWith(
  agent: IdentityAgent | undefined,
  resources: { clusters: Body[]; listeners: Body[] },
) {
  const proxy = await startProxy({
    node: { id: NODE_ID },
    admin: null,
    logger: createLogger({ name: 'weft-proxy', level: 'error' }),
    ...(agent ? { secrets: agent.secrets } : {}),
    staticResources: [
      ...resources.clusters.map((b) => resourceFromBody(CLUSTER_TYPE_URL, b as Record<string, unknown>)),
      ...resources.listeners.map((b) => resourceFromBody(LISTENER_TYPE_URL, b as Record<string, unknown>)),
    ],
  });
  proxies.push(proxy);
  const names = resources.listeners.map((l) => String(l.name));
  await waitUntil(() => names.every((n) => proxy.listenerAddress(n) !== undefined), 'listeners bound');
  return proxy;
}

let client: WeftProxy;
let echo: net.Server;
let serverTcp: number;

/** Sends `text` over TCP to `port` and resolves with what came back before the peer closed or 1 s passed. */
function tcpRoundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (got.length >= text.length) socket.end();
    });
    socket.on('error', () => resolve(got));
    socket.on('close', () => resolve(got));
    socket.setTimeout(1000, () => socket.destroy());
  });
}

beforeAll(async () => {
  ca = await startFakeCa({
    tokens: {
      'token-reviews': { namespace: 'default', serviceAccount: 'reviews' },
      'token-productpage': { namespace: 'default', serviceAccount: 'productpage' },
    },
  });
  dir = await mkdtemp(join(tmpdir(), 'weft-mtls-inproc-'));
  await writeFile(join(dir, 'root.pem'), ca.rootCertPem);
  backend = await startBackend('reviews');
  echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const server = await proxyWith(await agentFor('reviews'), {
    clusters: [
      staticCluster('app', [{ port: backend.port }]),
      staticCluster('echo', [{ port: (echo.address() as AddressInfo).port }]),
    ],
    listeners: [
      listener('inbound', 0, [inboundMtlsChain('app')]),
      listener('inbound-tcp', 0, [inboundMtlsChain('echo', tcpProxy('echo'))]),
    ],
  });
  const serverPort = server.listenerAddress('inbound')!.port;
  const serverTcpPort = server.listenerAddress('inbound-tcp')!.port;
  serverTcp = serverTcpPort;
  const route = (cluster: string) => virtualHost(cluster, [`${cluster}.test`], [routeTo(cluster)]);
  client = await proxyWith(await agentFor('productpage'), {
    clusters: [
      mtlsCluster('h1', serverPort, REVIEWS),
      mtlsCluster('h2', serverPort, REVIEWS, http2ProtocolOptions()),
      mtlsCluster('wrong-id', serverPort, 'spiffe://cluster.local/ns/default/sa/ratings'),
      mtlsCluster('tcp-mtls', serverTcpPort, REVIEWS),
    ],
    listeners: [
      listener('tcp-out', 0, [filterChain(tcpProxy('tcp-mtls'))]),
      listener('outbound', 0, [
        filterChain(
          httpConnectionManager(routeConfiguration('out', [route('h1'), route('h2'), route('wrong-id')])),
        ),
      ]),
    ],
  });
});

afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  for (const agent of agents) agent.stop();
  await backend?.close();
  echo?.close();
  await ca?.close();
  await rm(dir, { recursive: true, force: true });
});

async function viaClient(host: string) {
  const response = await request(`http://127.0.0.1:${client.listenerAddress('outbound')!.port}/r`, {
    headers: { host },
  });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('mesh mTLS between in-process proxies', () => {
  it.each([
    ['HTTP/1.1', 'h1.test'],
    ['HTTP/2 negotiated by ALPN', 'h2.test'],
  ])('carries %s with the client identity verified', async (_name, host) => {
    const before = backend.requests.length;
    expect((await viaClient(host)).status).toBe(200);
    const xfcc = String(backend.requests[before]?.headers['x-forwarded-client-cert']);
    expect(xfcc).toContain(`URI=${PRODUCTPAGE}`);
    expect(xfcc).toContain(`By=${REVIEWS}`);
  });

  it('fails with 503 when the server is not the identity the cluster expects', async () => {
    const before = backend.requests.length;
    const response = await viaClient('wrong-id.test');
    expect(response.status).toBe(503);
    expect(response.body).toContain('transport failure reason: upstream TLS handshake failed');
    expect(response.body).toContain('matches none of the expected names');
    expect(backend.requests.length).toBe(before);
  });

  it('carries TCP over mTLS (tcp_proxy upstream TLS, TLS chain with tcp_proxy) and refuses plaintext TCP', async () => {
    expect(await tcpRoundTrip(client.listenerAddress('tcp-out')!.port, 'ping over mtls')).toBe(
      'ping over mtls',
    );
    expect(await tcpRoundTrip(serverTcp, 'plaintext ping')).toBe('');
  });

  it('NACKs a TLS listener when the proxy has no identity agent', async () => {
    const bare = await proxyWith(undefined, { clusters: [], listeners: [] });
    const problems = bare.applyResources(
      LISTENER_TYPE_URL,
      [
        resourceFromBody(
          LISTENER_TYPE_URL,
          listener('inbound', 0, [inboundMtlsChain('app')]) as Record<string, unknown>,
        ),
      ],
      'v1',
    );
    expect(problems.join('\n')).toContain(
      'filterChains[0].transportSocket: needs SDS secrets default/ROOTCA, but this proxy has no identity agent',
    );
  });
});
