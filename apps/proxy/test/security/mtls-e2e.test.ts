/**
 * Zero trust end to end with real processes: weft-ca, weft-discovery and
 * weft-proxy binaries on loopback. client app -> client proxy (outbound,
 * auto mTLS) -> server proxy (inbound, DownstreamTlsContext) -> server app.
 * Every assertion is about what a client, the server app or a raw TLS/TCP
 * peer observed.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createSelfSignedRoot, generateKeyPair, signCertificate } from '@weft/pki';
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

let ca: CaProcess;
let discovery: DiscoveryProcess;
let config: MeshConfigDir;
let workDir: string;
let app: ServerApp;
let server: MeshProxy;
let client: MeshProxy;
let workloadPort: number;

const peerAuthentication = (mode: string) => istioObject('PeerAuthentication', 'default', { mtls: { mode } });

async function viaClient(path: string, headers: Record<string, string> = {}) {
  const response = await request(`http://127.0.0.1:${client.outboundPort}${path}`, {
    headers: { host: `${SERVICE_HOST}:${SERVICE_PORT}`, ...headers },
  });
  return { status: response.statusCode, body: await response.body.text() };
}

/** Sends a plaintext HTTP request straight to the server proxy's inbound port; resolves with what came back. */
function plaintextToInbound(extraHeaders = ''): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(workloadPort, SERVER_IP, () => {
      socket.write(
        `GET /plain HTTP/1.1\r\nhost: ${SERVICE_HOST}\r\n${extraHeaders}connection: close\r\n\r\n`,
      );
    });
    let got = '';
    socket.on('data', (chunk) => {
      got += chunk.toString();
    });
    socket.on('error', () => resolve(got));
    socket.on('close', () => resolve(got));
    socket.setTimeout(3000, () => socket.destroy());
  });
}

/** A TLS handshake to the server proxy's inbound port with `cert`/`key` trusting `ca`; the outcome. */
function tlsToInbound(options: {
  cert?: string;
  key?: string;
  ca: string;
}): Promise<{ ok: boolean; peer?: tls.PeerCertificate; status?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: SERVER_IP,
      port: workloadPort,
      ca: options.ca,
      ...(options.cert ? { cert: options.cert, key: options.key } : {}),
      ALPNProtocols: ['http/1.1'],
      checkServerIdentity: () => undefined,
    });
    let got = '';
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      socket.write(`GET /tls HTTP/1.1\r\nhost: ${SERVICE_HOST}\r\nconnection: close\r\n\r\n`);
      socket.on('data', (chunk) => {
        got += chunk.toString();
      });
      socket.on('close', () =>
        resolve({ ok: got.startsWith('HTTP/1.1 '), peer, status: got.split('\r\n', 1)[0] }),
      );
    });
    socket.once('error', (error) => resolve({ ok: false, error: error.message }));
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout')));
  });
}

/** The certificate the server proxy presents to a new TLS handshake (no client certificate sent). */
function serverCertificate(root: string): Promise<tls.PeerCertificate | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: SERVER_IP,
      port: workloadPort,
      ca: root,
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate());
      socket.destroy();
    });
    socket.once('error', () => resolve(undefined));
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'weft-security-e2e-'));
  ca = await startCaProcess(['--cert-ttl', '1h', '--max-cert-ttl', '1h']);
  config = await createMeshConfigDir();
  workloadPort = await freePort(SERVER_IP);
  await writeConfig(config.dir, 'reviews.yaml', reviewsService(workloadPort));
  await writeConfig(config.dir, 'peer-authentication.yaml', [peerAuthentication('STRICT')]);
  discovery = await startDiscoveryProcess(config.dir);
  app = await startServerApp(workloadPort);
  const common = { discovery: discovery.xdsAddress, ca, workDir } as const;
  server = await startMeshProxy({
    ...common,
    workload: 'reviews-v1',
    namespace: 'default',
    serviceAccount: 'reviews',
    ip: SERVER_IP,
    extraArgs: ['--metadata', 'LOCAL_APP_ADDRESS=127.0.1.2', '--cert-ttl', '4s'],
  });
  client = await startMeshProxy({
    ...common,
    workload: 'productpage-v1',
    namespace: 'default',
    serviceAccount: 'productpage',
    ip: '127.0.0.3',
    outbound: true,
    extraArgs: ['--cert-ttl', '4s'],
  });
  try {
    await eventually(
      'a request through both proxies',
      async () => (await viaClient('/warm')).status === 200,
      15_000,
    );
  } catch (error) {
    const last = await viaClient('/warm').catch((e: Error) => ({ status: 0, body: e.message }));
    throw new Error(
      `${(error as Error).message}: last ${last.status} ${last.body}\nclient: ${client.logs().slice(-3000)}\nserver: ${server.logs().slice(-3000)}`,
    );
  }
}, 60_000);

afterAll(async () => {
  await client?.stop();
  await server?.stop();
  await app?.close();
  await discovery?.stop();
  await ca?.stop();
  await config?.cleanup();
  await rm(workDir, { recursive: true, force: true });
});

describe('mesh mTLS with weft-ca and weft-discovery', () => {
  it('carries a request over mTLS: the server app sees the client identity in XFCC, never a forged one', async () => {
    const response = await viaClient('/reviews/1', {
      'x-forwarded-client-cert': 'By=spiffe://evil/ns/x/sa/y;URI=spiffe://cluster.local/ns/default/sa/admin',
    });
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body) as { headers: Record<string, string> };
    const xfcc = seen.headers['x-forwarded-client-cert'] ?? '';
    expect(xfcc).toContain('URI=spiffe://cluster.local/ns/default/sa/productpage');
    expect(xfcc).toContain('By=spiffe://cluster.local/ns/default/sa/reviews');
    expect(xfcc).toMatch(/Hash=[0-9a-f]{64}/);
    expect(xfcc).not.toContain('evil');
    expect(xfcc).not.toContain('sa/admin');
  });

  it('STRICT: a plaintext client gets nothing through (the app never sees it)', async () => {
    const before = app.seen.length;
    const got = await plaintextToInbound();
    expect(got).not.toContain('"url":"/plain"');
    expect(app.seen.slice(before).some((r) => r.url === '/plain')).toBe(false);
  });

  it('serves the workload certificate of reviews, chained to the CA root', async () => {
    const root = await readFile(ca.rootFile, 'utf8');
    const result = await tlsToInbound({ ca: root });
    // No client certificate: the handshake may complete on our side, but no request is served.
    expect(result.ok).toBe(false);
    const viaHandshake = await serverCertificate(root);
    expect(viaHandshake?.subjectaltname).toBe('URI:spiffe://cluster.local/ns/default/sa/reviews');
    expect(new X509Certificate(viaHandshake!.raw).verify(new X509Certificate(root).publicKey)).toBe(true);
  });

  it.each([
    ['a certificate from another CA', 'other-ca'],
    ['an expired certificate from the mesh CA', 'expired'],
    ['a SPIFFE ID of another trust domain from the mesh CA', 'other-domain'],
  ] as const)('refuses %s', async (_name, kind) => {
    const root = await readFile(ca.rootFile, 'utf8');
    const meshCa = { certPem: root, keyPem: await readFile(join(ca.stateDir, 'ca-key.pem'), 'utf8') };
    const issuer =
      kind === 'other-ca' ? await createSelfSignedRoot({ subject: { commonName: 'rogue' } }) : meshCa;
    const key = await generateKeyPair({ type: 'ec' });
    const spiffeId =
      kind === 'other-domain'
        ? 'spiffe://other.domain/ns/default/sa/productpage'
        : 'spiffe://cluster.local/ns/default/sa/productpage';
    const clock = kind === 'expired' ? () => Date.now() - 7_200_000 : Date.now;
    const leaf = await signCertificate(
      { certPem: issuer.certPem, keyPem: issuer.keyPem },
      { publicKey: key.publicKeyPem, spiffeId, ttlSeconds: 600 },
      { clock },
    );
    const before = app.seen.length;
    const result = await tlsToInbound({ ca: root, cert: leaf.certPem, key: key.privateKeyPem });
    expect(result.ok).toBe(false);
    expect(app.seen.length).toBe(before);
  });

  it('PERMISSIVE accepts plaintext and mTLS alike', async () => {
    await writeConfig(config.dir, 'peer-authentication.yaml', [peerAuthentication('PERMISSIVE')]);
    await eventually(
      'plaintext accepted',
      async () => (await plaintextToInbound()).startsWith('HTTP/1.1 200'),
      10_000,
    );
    expect((await viaClient('/reviews/2')).status).toBe(200);
    // A plaintext caller cannot forge a client identity: the inbound HCM strips its XFCC.
    const forged = await plaintextToInbound(
      'x-forwarded-client-cert: URI=spiffe://cluster.local/ns/default/sa/productpage\r\n',
    );
    expect(forged).toContain('"url":"/plain"');
    expect(forged).not.toContain('x-forwarded-client-cert');
    await writeConfig(config.dir, 'peer-authentication.yaml', [peerAuthentication('STRICT')]);
    await eventually(
      'plaintext refused again',
      async () => !(await plaintextToInbound()).startsWith('HTTP/1.1'),
      10_000,
    );
  });

  it('rotates both certificates (4 s TTL) under steady traffic without losing a request', async () => {
    const root = await readFile(ca.rootFile, 'utf8');
    const issued = (proxy: MeshProxy) => proxy.logs().split('workload certificate issued').length - 1;
    const clientIssuedBefore = issued(client);
    const serverSerials = new Set<string>();
    let failures = 0;
    let sent = 0;
    const until = Date.now() + 7000;
    const worker = async () => {
      while (Date.now() < until) {
        const response = await viaClient('/steady').catch(() => ({ status: 0, body: '' }));
        sent++;
        if (response.status !== 200) failures++;
      }
    };
    // New handshakes see the server's current certificate; open connections keep theirs.
    const prober = async () => {
      while (Date.now() < until) {
        const serial = (await serverCertificate(root))?.serialNumber;
        if (serial) serverSerials.add(serial);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await Promise.all([worker(), worker(), worker(), worker(), prober()]);
    expect(failures).toBe(0);
    expect(sent).toBeGreaterThan(50);
    // Renewal at about half of 4 s: at least three certificates each over 7 s.
    expect(serverSerials.size).toBeGreaterThanOrEqual(3);
    expect(issued(client) - clientIssuedBefore).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it('never logs the bearer token or a private key', async () => {
    for (const proxy of [client, server]) {
      const token = await readFile(
        join(workDir, proxy === client ? 'productpage-v1.token' : 'reviews-v1.token'),
        'utf8',
      );
      expect(proxy.logs()).toContain('workload certificate issued');
      expect(proxy.logs()).not.toContain(token.trim());
      expect(proxy.logs()).not.toContain('PRIVATE KEY');
    }
  });
});
