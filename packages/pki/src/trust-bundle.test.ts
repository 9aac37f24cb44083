import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { buildRoot, buildWorkload, workloadId } from '../test/builders.ts';
import { createIntermediate } from './certificate-signer.ts';
import {
  buildChain,
  createTrustBundle,
  parseCertificates,
  spiffeIdOf,
  splitPemCertificates,
  verifyChain,
} from './trust-bundle.ts';

const ID_A = workloadId('shop', 'frontend');
const ID_B = workloadId('shop', 'cart');

function bundleOf(...pems: string[]) {
  const result = createTrustBundle(pems);
  if (!result.ok) throw new Error(result.problems[0]?.message);
  return result.bundle;
}

describe('trust bundles', () => {
  it('dedupes roots by fingerprint and keeps order', async () => {
    const [a, b] = [await buildRoot(), await buildRoot({ type: 'rsa', bits: 2048 })];
    const bundle = bundleOf(a.certPem + b.certPem, a.certPem);
    expect(bundle.certificates).toHaveLength(2);
    expect(bundle.fingerprints).toEqual([
      new X509Certificate(a.certPem).fingerprint256,
      new X509Certificate(b.certPem).fingerprint256,
    ]);
    expect(splitPemCertificates(bundle.toPem())).toHaveLength(2);
    expect(bundle.contains(new X509Certificate(b.certPem))).toBe(true);
  });

  it.each([
    { name: 'no certificate', pem: 'hello', field: 'bundle[0].certificates' },
    {
      name: 'an unreadable block',
      pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      field: 'bundle[0].certificates[0]',
    },
  ])('reports $name', ({ pem, field }) => {
    const result = createTrustBundle([pem]);
    expect(!result.ok && result.problems[0]?.field).toBe(field);
  });

  it('refuses a leaf as a trust anchor', async () => {
    const leaf = await buildWorkload(await buildRoot(), ID_A);
    const result = createTrustBundle([leaf.certPem]);
    expect(!result.ok && result.problems[0]?.message).toBe('trust anchor is not a CA');
  });
});

describe('chains', () => {
  it('builds leaf-first, root-last chains and verifies them', async () => {
    const root = await buildRoot();
    const intermediate = await createIntermediate({ ca: root, subject: { commonName: 'inter' } });
    const leaf = await buildWorkload(intermediate, ID_A);
    const chain = buildChain(leaf.certPem, [intermediate.certPem + root.certPem], root.certPem);
    expect(chain.map((pem) => new X509Certificate(pem).subject)).toEqual([
      undefined,
      'CN=inter',
      'O=weft-test\nCN=Weft Test Root',
    ]);
    expect(verifyChain({ chain, roots: bundleOf(root.certPem), now: Date.now() })).toEqual({
      ok: true,
      spiffeId: ID_A,
    });
    expect(verifyChain({ chain: chain.slice(0, 2), roots: bundleOf(root.certPem), now: Date.now() }).ok).toBe(
      true,
    );
  });

  it.each([
    { name: 'an expired leaf', now: () => Date.now() + 2 * 3600_000, otherRoot: false, message: 'expired' },
    {
      name: 'a not-yet-valid leaf',
      now: () => Date.now() - 3600_000,
      otherRoot: false,
      message: 'not yet valid',
    },
    {
      name: 'an unknown root',
      now: () => Date.now(),
      otherRoot: true,
      message: 'does not chain to a trusted root',
    },
  ])('rejects $name', async ({ now, otherRoot, message }) => {
    const root = await buildRoot();
    const leaf = await buildWorkload(root, ID_A);
    const roots = bundleOf(otherRoot ? (await buildRoot()).certPem : root.certPem);
    const result = verifyChain({ chain: [leaf.certPem], roots, now: now() });
    expect(!result.ok && result.problems.map((p) => p.message)).toContain(message);
  });

  it('rejects a chain whose links do not match', async () => {
    const root = await buildRoot();
    const other = await buildRoot();
    const leaf = await buildWorkload(other, ID_A);
    const result = verifyChain({
      chain: [leaf.certPem, root.certPem],
      roots: bundleOf(root.certPem),
      now: Date.now(),
    });
    expect(!result.ok && result.problems[0]).toEqual({
      field: 'chain[0]',
      message: 'not signed by the next certificate in the chain',
    });
  });

  it('reads the SPIFFE ID only from a single URI SAN', async () => {
    const root = await buildRoot();
    expect(spiffeIdOf((await buildWorkload(root, ID_B)).certPem)).toBe(ID_B);
    expect(spiffeIdOf(root.certPem)).toBeUndefined();
    expect(parseCertificates(root.certPem).ok).toBe(true);
  });
});

describe('mutual TLS between two workloads holding Weft certificates', () => {
  it.each([
    {
      name: 'EC workloads',
      keyA: { type: 'ec' as const },
      keyB: { type: 'ec' as const, curve: 'P-384' as const },
    },
    {
      name: 'RSA and EC workloads',
      keyA: { type: 'rsa' as const, bits: 2048 as const },
      keyB: { type: 'ec' as const },
    },
  ])('handshakes and each side sees the peer SPIFFE ID ($name)', async ({ keyA, keyB }) => {
    const root = await buildRoot();
    const server = await buildWorkload(root, ID_A, keyA);
    const client = await buildWorkload(root, ID_B, keyB);
    let serverSawPeer: string | undefined;
    const tlsServer = createServer(
      {
        key: server.keyPem,
        cert: server.certPem,
        ca: root.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => {
        serverSawPeer = spiffeIdOf(socket.getPeerCertificate().raw);
        socket.end('hello');
      },
    );
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    try {
      const { port } = tlsServer.address() as AddressInfo;
      const socket: TLSSocket = connect({
        host: '127.0.0.1',
        port,
        key: client.keyPem,
        cert: client.certPem,
        ca: root.certPem,
        checkServerIdentity: (_host, cert) =>
          spiffeIdOf(cert.raw) === ID_A ? undefined : new Error('wrong peer'),
      });
      await once(socket, 'secureConnect');
      expect(socket.authorized).toBe(true);
      expect(spiffeIdOf(socket.getPeerCertificate().raw)).toBe(ID_A);
      const [data] = await once(socket, 'data');
      expect(String(data)).toBe('hello');
      expect(serverSawPeer).toBe(ID_B);
      socket.destroy();
    } finally {
      tlsServer.close();
    }
  });

  it('refuses a client whose certificate another CA issued', async () => {
    const root = await buildRoot();
    const server = await buildWorkload(root, ID_A);
    const stranger = await buildWorkload(await buildRoot(), ID_B);
    const tlsServer = createServer(
      {
        key: server.keyPem,
        cert: server.certPem,
        ca: root.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => socket.end('should not happen'),
    );
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    try {
      const { port } = tlsServer.address() as AddressInfo;
      const socket = connect({
        host: '127.0.0.1',
        port,
        key: stranger.keyPem,
        cert: stranger.certPem,
        ca: root.certPem,
        checkServerIdentity: () => undefined,
      });
      const outcome = await Promise.race([
        once(socket, 'error').then(([e]) => `error: ${(e as Error).message}`),
        once(socket, 'data').then(() => 'data'),
        once(socket, 'end').then(() => 'end'),
      ]);
      expect(outcome).not.toBe('data');
      socket.destroy();
    } finally {
      tlsServer.close();
    }
  });
});
