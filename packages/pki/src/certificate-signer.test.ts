import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildRoot,
  openssl,
  opensslCsr,
  opensslStatus,
  useTempDir,
  workloadId,
  writeFile,
} from '../test/builders.ts';
import {
  createCertificateSigner,
  createIntermediate,
  createSelfSignedRoot,
  signCertificate,
} from './certificate-signer.ts';
import { parseCsr } from './csr.ts';
import type { KeyPairOptions } from './key-pair.ts';
import { PkiError } from './problems.ts';

const dir = useTempDir();
const ID = workloadId('a', 'x');

describe('signing an openssl CSR, judged by openssl', () => {
  it.each<{ name: string; ca: KeyPairOptions; workload: 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-4096' }>([
    { name: 'EC P-256 CA, EC P-256 workload', ca: { type: 'ec', curve: 'P-256' }, workload: 'ec-p256' },
    { name: 'EC P-384 CA, RSA 2048 workload', ca: { type: 'ec', curve: 'P-384' }, workload: 'rsa-2048' },
    { name: 'RSA 2048 CA, EC P-256 workload', ca: { type: 'rsa', bits: 2048 }, workload: 'ec-p256' },
    { name: 'RSA 3072 CA, EC P-384 workload', ca: { type: 'rsa', bits: 3072 }, workload: 'ec-p384' },
    { name: 'RSA 4096 CA, RSA 4096 workload', ca: { type: 'rsa', bits: 4096 }, workload: 'rsa-4096' },
  ])('$name', async ({ name, ca, workload }) => {
    const root = await buildRoot(ca);
    const { csrPem } = opensslCsr(dir, workload, `URI:${ID}`);
    const parsed = parseCsr(csrPem);
    if (!parsed.ok) throw new Error(parsed.problems[0]?.message);
    const leaf = signCertificate(
      { certPem: root.certPem, keyPem: root.keyPem },
      { publicKey: parsed.csr.publicKey, spiffeId: ID, ttlSeconds: 3600 },
    );
    const tag = name.replace(/\W+/g, '-');
    const rootPath = writeFile(dir, `${tag}-root.pem`, root.certPem);
    const leafPath = writeFile(dir, `${tag}-leaf.pem`, leaf.certPem);
    expect(openssl(['verify', '-CAfile', rootPath, leafPath]).trim()).toBe(`${leafPath}: OK`);
    expect(openssl(['verify', '-CAfile', rootPath, '-purpose', 'sslserver', leafPath])).toContain('OK');
    expect(openssl(['verify', '-CAfile', rootPath, '-purpose', 'sslclient', leafPath])).toContain('OK');

    const text = openssl(['x509', '-in', leafPath, '-noout', '-text']);
    expect(text).toMatch(
      /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/a\/sa\/x\n/,
    );
    const usage = workload.startsWith('rsa')
      ? 'Digital Signature, Key Encipherment'
      : 'Digital Signature, Key Agreement';
    expect(text).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${usage}\\n`));
    expect(text).toMatch(
      /X509v3 Extended Key Usage: \s+TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text).not.toContain('DNS:');
  });
});

describe('createCertificateSigner', () => {
  it('backdates notBefore, sets notAfter from the TTL and uses random serials', async () => {
    const now = Date.UTC(2026, 5, 1, 12, 0, 0, 750);
    const root = await buildRoot({ type: 'ec' }, () => now - 3600_000);
    const { csrPem } = opensslCsr(dir, 'ec-p256', `URI:${ID}`);
    const parsed = parseCsr(csrPem);
    if (!parsed.ok) throw new Error('csr');
    const signer = createCertificateSigner(
      { certPem: root.certPem, keyPem: root.keyPem },
      { clock: () => now },
    );
    const a = signer.issue({ publicKey: parsed.csr.publicKey, spiffeId: ID, ttlSeconds: 7200 });
    const b = signer.issue({
      publicKey: parsed.csr.publicKey,
      spiffeId: ID,
      ttlSeconds: 7200,
      backdateSeconds: 300,
    });
    expect(a.notBefore.toISOString()).toBe('2026-06-01T11:59:00.000Z');
    expect(b.notBefore.toISOString()).toBe('2026-06-01T11:55:00.000Z');
    expect(a.notAfter.toISOString()).toBe('2026-06-01T14:00:00.000Z');
    const x509 = new X509Certificate(a.certPem);
    expect(new Date(x509.validTo).toISOString()).toBe(a.notAfter.toISOString());
    expect(x509.serialNumber.toLowerCase()).toBe(a.serialHex);
    expect(a.serialHex).not.toBe(b.serialHex);
    expect(a.serialHex).toMatch(/^[4-7][0-9a-f]{31}$/);
  });

  it('certifies the exact key of a parsed CSR without re-encoding it', async () => {
    const root = await buildRoot();
    const { csrPem } = opensslCsr(dir, 'rsa-2048', `URI:${ID}`);
    const parsed = parseCsr(csrPem);
    if (!parsed.ok) throw new Error('csr');
    const leaf = createCertificateSigner(root).issue({ publicKey: parsed.csr, spiffeId: ID, ttlSeconds: 60 });
    const certKey = new X509Certificate(leaf.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(certKey.equals(parsed.csr.spki)).toBe(true);
    expect(
      openssl(['x509', '-in', writeFile(dir, 'from-csr.pem', leaf.certPem), '-noout', '-text']),
    ).toContain('Digital Signature, Key Encipherment');
  });

  it('never issues past its own expiry', async () => {
    const now = Date.UTC(2026, 0, 1);
    const root = await createSelfSignedRoot({
      subject: { commonName: 'short' },
      ttlSeconds: 600,
      clock: () => now,
    });
    const signer = createCertificateSigner(
      { certPem: root.certPem, keyPem: root.keyPem },
      { clock: () => now },
    );
    const leaf = signer.issue({ publicKey: root.keyPem, spiffeId: ID, ttlSeconds: 86_400 });
    expect(leaf.notAfter.getTime()).toBe(signer.notAfter.getTime());
  });

  it.each([
    {
      name: 'a key that does not match the certificate',
      build: async () => ({ certPem: (await buildRoot()).certPem, keyPem: (await buildRoot()).keyPem }),
      code: 'invalid-key',
    },
    {
      name: 'a leaf certificate as CA',
      build: async () => {
        const root = await buildRoot();
        const leaf = signCertificate(root, { publicKey: root.keyPem, spiffeId: ID, ttlSeconds: 60 });
        return { certPem: leaf.certPem, keyPem: root.keyPem };
      },
      code: 'invalid-certificate',
    },
    { name: 'garbage', build: async () => ({ certPem: 'nope', keyPem: 'nope' }), code: 'invalid-key' },
  ])('refuses $name', async ({ build, code }) => {
    const material = await build();
    expect(() => createCertificateSigner(material)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses a bad TTL and a bad IP SAN with invalid-argument', async () => {
    const root = await buildRoot();
    const signer = createCertificateSigner(root);
    expect(() => signer.issue({ publicKey: root.keyPem, ttlSeconds: 0 })).toThrow(PkiError);
    expect(() =>
      signer.issue({ publicKey: root.keyPem, ipAddresses: ['300.1.1.1'], ttlSeconds: 60 }),
    ).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});

describe('CA certificates', () => {
  it('makes a 10-year self-signed root with CA key usages', async () => {
    const now = Date.UTC(2026, 0, 1);
    const root = await createSelfSignedRoot({
      key: { type: 'rsa', bits: 2048 },
      subject: { organization: 'weft', commonName: 'root' },
      clock: () => now,
    });
    const path = writeFile(dir, 'root-10y.pem', root.certPem);
    const text = openssl(['x509', '-in', path, '-noout', '-text']);
    expect(text).toMatch(/Issuer: O = weft, CN = root/);
    expect(text).toMatch(/Subject: O = weft, CN = root/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(root.notAfter.getTime() - now).toBe(10 * 365 * 86_400_000);
    expect(openssl(['verify', '-CAfile', path, path])).toContain('OK');
  });

  it('chains root -> intermediate -> leaf, accepted by openssl verify -untrusted', async () => {
    const root = await buildRoot({ type: 'ec', curve: 'P-384' });
    const intermediate = await createIntermediate({
      ca: root,
      key: { type: 'rsa', bits: 2048 },
      subject: { organization: 'weft', commonName: 'intermediate' },
      pathLength: 0,
    });
    const { csrPem } = opensslCsr(dir, 'ec-p256', `URI:${ID}`);
    const parsed = parseCsr(csrPem);
    if (!parsed.ok) throw new Error('csr');
    const leaf = signCertificate(intermediate, {
      publicKey: parsed.csr.publicKey,
      spiffeId: ID,
      ttlSeconds: 600,
    });
    const rootPath = writeFile(dir, 'chain-root.pem', root.certPem);
    const interPath = writeFile(dir, 'chain-inter.pem', intermediate.certPem);
    const leafPath = writeFile(dir, 'chain-leaf.pem', leaf.certPem);
    expect(openssl(['verify', '-CAfile', rootPath, '-untrusted', interPath, leafPath])).toContain('OK');
    expect(opensslStatus(['verify', '-CAfile', rootPath, leafPath]).status).not.toBe(0);
    expect(openssl(['x509', '-in', interPath, '-noout', '-text'])).toMatch(/CA:TRUE, pathlen:0/);
  });
});
