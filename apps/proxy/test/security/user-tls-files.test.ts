/**
 * User TLS with PEM files, as weft-discovery generates it for DestinationRule
 * SIMPLE/MUTUAL and Gateway servers: an upstream verified against
 * `validationContext.trustedCa` (a file) and a DNS SAN, presenting a client
 * certificate from files (MUTUAL); and a listener terminating TLS with a
 * server certificate from files. Real node:https peers on loopback,
 * certificates made with @weft/pki. The listener terminates TLS on the
 * accepted socket itself after sniffing the ClientHello, so a ClientHello
 * split over many TCP segments, and HTTP/2 by ALPN, are covered here too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import tls, { type TLSSocket } from 'node:tls';
import { createSelfSignedRoot, generateKeyPair, signCertificate } from '@weft/pki';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Body } from '../../src/config/problems.ts';
import type { WeftProxy } from '../../src/proxy.ts';
import {
  filterChain,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  virtualHost,
} from '../../src/testing/builders.ts';
import { startStaticProxy } from '../support/harness.ts';

const TYPE = 'type.googleapis.com/';
let dir: string;
let backend: https.Server;
let proxy: WeftProxy;
let rootPem: string;
let relay: net.Server;
const relayed = new Set<net.Socket>();
const clientCertSubjects: string[] = [];

async function leaf(root: { certPem: string; keyPem: string }, name: string) {
  const key = await generateKeyPair({ type: 'ec' });
  const cert = signCertificate(root, { publicKey: key.publicKeyPem, dnsNames: [name], ttlSeconds: 3600 });
  return { certPem: cert.certPem, keyPem: key.privateKeyPem };
}

function upstreamTls(san: string, withClientCert: boolean): Body {
  return {
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
        sni: 'backend.internal',
        commonTlsContext: {
          ...(withClientCert
            ? {
                tlsCertificates: [
                  {
                    certificateChain: { filename: join(dir, 'client.pem') },
                    privateKey: { filename: join(dir, 'client-key.pem') },
                  },
                ],
              }
            : {}),
          validationContext: {
            trustedCa: { filename: join(dir, 'root.pem') },
            matchTypedSubjectAltNames: [{ sanType: 'DNS', matcher: { exact: san } }],
          },
        },
      },
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-user-tls-'));
  const root = await createSelfSignedRoot({ subject: { commonName: 'user root' } });
  rootPem = root.certPem;
  const server = await leaf(root, 'backend.internal');
  const client = await leaf(root, 'client.internal');
  const gateway = await leaf(root, 'gateway.internal');
  await writeFile(join(dir, 'root.pem'), root.certPem);
  await writeFile(join(dir, 'client.pem'), client.certPem);
  await writeFile(join(dir, 'client-key.pem'), client.keyPem);
  await writeFile(join(dir, 'gateway.pem'), gateway.certPem);
  await writeFile(join(dir, 'gateway-key.pem'), gateway.keyPem);
  backend = https.createServer(
    {
      cert: server.certPem,
      key: server.keyPem,
      ca: root.certPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      clientCertSubjects.push(peer?.subjectaltname ?? '');
      res.end('backend');
    },
  );
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const port = (backend.address() as AddressInfo).port;
  const route = (cluster: string) => virtualHost(cluster, [`${cluster}.test`], [routeTo(cluster)]);
  const gatewayChain = {
    ...filterChain(
      httpConnectionManager(routeConfiguration('gw', [virtualHost('all', ['*'], [routeTo('simple')])])),
    ),
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
        commonTlsContext: {
          tlsCertificates: [
            {
              certificateChain: { filename: join(dir, 'gateway.pem') },
              privateKey: { filename: join(dir, 'gateway-key.pem') },
            },
          ],
          alpnProtocols: ['h2', 'http/1.1'],
        },
      },
    },
  };
  proxy = await startStaticProxy({
    clusters: [
      staticCluster('simple', [{ port }], upstreamTls('backend.internal', false)),
      staticCluster('mutual', [{ port }], upstreamTls('backend.internal', true)),
      staticCluster('wrong-san', [{ port }], upstreamTls('other.internal', false)),
    ],
    listeners: [
      listener('out', 0, [
        filterChain(
          httpConnectionManager(routeConfiguration('out', ['simple', 'mutual', 'wrong-san'].map(route))),
        ),
      ]),
      listener('gateway', 0, [gatewayChain]),
    ],
  });
});

afterAll(async () => {
  await new Promise((resolve) => relay?.close(resolve));
  await proxy?.close();
  await new Promise((resolve) => backend?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function via(host: string) {
  const response = await request(`http://127.0.0.1:${proxy.listenerAddress('out')!.port}/`, {
    headers: { host },
  });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('user TLS from PEM files', () => {
  it('SIMPLE: verifies the server against the CA file and its DNS SAN', async () => {
    expect(await via('simple.test')).toMatchObject({ status: 200, body: 'backend' });
    expect(clientCertSubjects.at(-1)).toBe('');
  });

  it('MUTUAL: presents the client certificate from files', async () => {
    expect(await via('mutual.test')).toMatchObject({ status: 200, body: 'backend' });
    expect(clientCertSubjects.at(-1)).toBe('DNS:client.internal');
  });

  it('refuses a server whose SAN is not the expected one (503 UF)', async () => {
    const response = await via('wrong-san.test');
    expect(response.status).toBe(503);
    expect(response.body).toContain('matches none of the expected names');
  });

  it('terminates TLS on a listener with a server certificate from files (gateway)', async () => {
    const body = await new Promise<{ status: number; san: string; body: string }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: proxy.listenerAddress('gateway')!.port,
          path: '/',
          ca: rootPem,
          servername: 'gateway.internal',
        },
        (res) => {
          const san = (res.socket as TLSSocket).getPeerCertificate().subjectaltname ?? '';
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, san, body: text }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toEqual({ status: 200, san: 'DNS:gateway.internal', body: 'backend' });
  });
});

/**
 * A TCP relay to `port` that sends the client's first chunk (the
 * ClientHello) in `pieces` separate writes `pauseMs` apart, Nagle off, so
 * the proxy reads it in several segments; everything after is piped.
 */
async function splittingRelay(port: number, pieces: number, pauseMs: number): Promise<number> {
  relay = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    upstream.setNoDelay(true);
    relayed.add(client).add(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.once('data', (first: Buffer) => {
      client.pause();
      const size = Math.ceil(first.length / pieces);
      const writePiece = (offset: number): void => {
        if (offset >= first.length) {
          client.pipe(upstream);
          upstream.pipe(client);
          return;
        }
        upstream.write(first.subarray(offset, offset + size));
        setTimeout(() => writePiece(offset + size), pauseMs);
      };
      writePiece(0);
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return (relay.address() as AddressInfo).port;
}

function getOverHttp1(port: number): Promise<{ status: number; alpn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & tls.ConnectionOptions = {
      host: '127.0.0.1',
      port,
      path: '/',
      ca: rootPem,
      servername: 'gateway.internal',
      ALPNProtocols: ['http/1.1'],
      agent: false,
    };
    const req = https.request(options, (res) => {
      const alpn = String((res.socket as TLSSocket).alpnProtocol);
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, alpn, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function getOverHttp2(port: number): Promise<{ status: number; alpn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      ca: rootPem,
      servername: 'gateway.internal',
    });
    session.on('error', reject);
    const stream = session.request({ ':path': '/' });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', (c) => {
      body += c;
    });
    stream.on('end', () => {
      const alpn = String(session.alpnProtocol);
      session.close();
      resolve({ status, alpn, body });
    });
    stream.on('error', reject);
    stream.end();
  });
}

describe('TLS termination on the accepted socket', () => {
  it.each([
    { name: 'HTTP/1.1', get: getOverHttp1, alpn: 'http/1.1' },
    { name: 'HTTP/2 by ALPN', get: getOverHttp2, alpn: 'h2' },
  ])('handshakes a ClientHello split over several TCP segments ($name)', async ({ get, alpn }) => {
    const port = await splittingRelay(proxy.listenerAddress('gateway')!.port, 6, 15);
    try {
      expect(await get(port)).toEqual({ status: 200, alpn, body: 'backend' });
    } finally {
      for (const socket of relayed) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  it('refuses at once a peer that closes its side right after its ClientHello', async () => {
    const hello = await clientHello('gateway.internal');
    const port = proxy.listenerAddress('gateway')!.port;
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const raw = net.connect(port, '127.0.0.1', () => raw.end(hello));
      raw.resume(); // the ServerHello may come before the proxy sees the FIN
      raw.on('error', () => resolve());
      raw.on('close', () => resolve());
    });
    // Without the check the half-closed connection would wait for the 10 s handshake timeout.
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

/** The bytes of a real ClientHello for `servername` (Node's TLS client writing into a capture). */
async function clientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const capture = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        resolve(chunk);
        callback();
        setImmediate(() => secure.destroy());
      },
    });
    const secure = tls.connect({ socket: capture, servername });
    secure.on('error', () => {});
  });
}
