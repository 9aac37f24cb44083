import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openssl, opensslCsr, useTempDir, workloadId, writeFile } from '../test/builders.ts';
import { createCsr, parseCsr } from './csr.ts';
import { generateKeyPair, type KeyPairOptions } from './key-pair.ts';
import { PkiError } from './problems.ts';

const dir = useTempDir();
const ID = workloadId('default', 'reviews');

/** Flips one byte of the DER inside a PEM block, `fromEnd` bytes before its end. */
function corruptDer(pem: string, fromEnd: number): string {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64');
  der[der.length - fromEnd]! ^= 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('createCsr', () => {
  it.each<{ name: string; key: KeyPairOptions }>([
    { name: 'EC P-256', key: { type: 'ec', curve: 'P-256' } },
    { name: 'EC P-384', key: { type: 'ec', curve: 'P-384' } },
    { name: 'RSA 2048', key: { type: 'rsa', bits: 2048 } },
    { name: 'RSA 3072', key: { type: 'rsa', bits: 3072 } },
  ])('makes a $name CSR that OpenSSL verifies and reads', async ({ key }) => {
    const keyPair = await generateKeyPair(key);
    const pem = createCsr({
      privateKeyPem: keyPair.privateKeyPem,
      spiffeId: ID,
      dnsNames: ['reviews.default.svc'],
    });
    const path = writeFile(dir, `csr-${key.type}.pem`, pem);
    const text = openssl(['req', '-in', path, '-noout', '-verify', '-text']);
    expect(text).toContain(`URI:${ID}`);
    expect(text).toContain('DNS:reviews.default.svc');
    const parsed = parseCsr(pem);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.csr.keySpec).toEqual(keyPair.spec);
  });

  it('refuses a key Weft does not accept', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => createCsr({ privateKeyPem: pem, spiffeId: ID })).toThrow(PkiError);
  });
});

describe('parseCsr', () => {
  it('reads a CSR made by openssl req with a URI SAN', () => {
    const { csrPem } = opensslCsr(dir, 'ec-p256', `URI:${ID},DNS:a.example,IP:10.0.0.1,IP:::1`, '/O=ignored');
    const mapped = parseCsr(
      createCsr({
        privateKeyPem: opensslCsr(dir, 'ec-p256', '').keyPem,
        ipAddresses: ['::ffff:10.0.0.1', 'fe80::1:2'],
      }),
    );
    expect(mapped.ok && mapped.csr.subjectAltNames.ipAddresses).toEqual([
      '0:0:0:0:0:ffff:a00:1',
      'fe80:0:0:0:0:0:1:2',
    ]);
    const parsed = parseCsr(csrPem);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.csr.subjectAltNames).toMatchObject({
      uris: [ID],
      dnsNames: ['a.example'],
      ipAddresses: ['10.0.0.1', '0:0:0:0:0:0:0:1'],
    });
  });

  it('reads an RSA CSR made by openssl req', () => {
    const parsed = parseCsr(opensslCsr(dir, 'rsa-2048', `URI:${ID}`).csrPem);
    expect(parsed.ok && parsed.csr.keySpec).toEqual({ type: 'rsa', bits: 2048 });
  });

  it.each([
    { name: 'empty input', input: () => '', field: 'csr', message: /no PEM/ },
    {
      name: 'a certificate instead',
      input: () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      field: 'csr',
      message: /no PEM/,
    },
    {
      name: 'garbage in the PEM',
      input: () => '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
      field: 'csr',
      message: /not valid DER/,
    },
    { name: 'oversized', input: () => 'x'.repeat(20_000), field: 'csr', message: /limit is 16384/ },
    {
      name: 'a bad signature',
      input: () => corruptDer(opensslCsr(dir, 'ec-p256', `URI:${ID}`).csrPem, 5),
      field: 'csr.signature',
      message: /does not verify/,
    },
    {
      name: 'RSA 1024',
      input: () => opensslCsr(dir, 'rsa-1024', `URI:${ID}`).csrPem,
      field: 'csr.publicKey',
      message: /RSA key size 1024/,
    },
    {
      name: 'an Ed25519 key',
      input: () => opensslCsr(dir, 'ed25519', `URI:${ID}`).csrPem,
      field: 'csr.publicKey',
      message: /ed25519/,
    },
  ])('rejects $name', ({ input, field, message }) => {
    const parsed = parseCsr(input());
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems[0]?.field).toBe(field);
    expect(parsed.problems[0]?.message).toMatch(message);
  });

  it('lists every requested name so a CA can refuse extras', () => {
    const { csrPem } = opensslCsr(
      dir,
      'ec-p256',
      `URI:${ID},URI:spiffe://cluster.local/ns/default/sa/admin,email:a@b`,
    );
    const parsed = parseCsr(csrPem);
    expect(parsed.ok && parsed.csr.subjectAltNames).toMatchObject({
      uris: [ID, 'spiffe://cluster.local/ns/default/sa/admin'],
      emails: ['a@b'],
    });
  });
});

describe('parseCsr on hostile input', () => {
  it('never throws, and accepts only the signed bytes, when a CSR is changed, cut or extended', async () => {
    const { default: fc } = await import('fast-check');
    const key = await generateKeyPair({ type: 'ec' });
    const der = Buffer.from(
      createCsr({ privateKeyPem: key.privateKeyPem, spiffeId: ID })
        .replace(/-----[^-]+-----|\s/g, '')
        .trim(),
      'base64',
    );
    const toPem = (bytes: Buffer) =>
      `-----BEGIN CERTIFICATE REQUEST-----\n${bytes.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ at: fc.nat({ max: der.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
          { maxLength: 4 },
        ),
        fc.nat({ max: der.length }),
        fc.uint8Array({ maxLength: 8 }),
        (edits, cut, tail) => {
          const bytes = Buffer.from(der);
          for (const edit of edits) bytes[edit.at] = edit.value;
          const mangled = Buffer.concat([bytes.subarray(0, cut), Buffer.from(tail)]);
          const result = parseCsr(toPem(mangled));
          // Only the exact signed bytes are accepted; anything else is a problem, never a throw.
          if (result.ok) expect(mangled.equals(der)).toBe(true);
          else expect(result.problems.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
