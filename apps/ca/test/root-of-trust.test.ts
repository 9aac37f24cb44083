/**
 * The root of trust: generated once and kept across restarts, or an
 * operator-supplied intermediate in Istio's cacerts layout.
 */

import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createIntermediate, createSelfSignedRoot } from '@weft/pki';
import { createMetrics } from '@weft/telemetry';
import { describe, expect, it } from 'vitest';
import { startCa } from '../src/start-ca.ts';
import {
  caOptions,
  openssl,
  spiffeId,
  startTestCa,
  useTempDir,
  workloadCsr,
  writeTemp,
} from './ca-harness.ts';

const dir = useTempDir();
const quiet = {
  logger: {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child() {
      return quiet.logger;
    },
  },
};

async function startAndStop(stateDir: string, overrides = {}) {
  const ca = await startCa(caOptions(stateDir, overrides), {
    ...quiet,
    metrics: createMetrics({ serviceName: 't' }),
  });
  const rootCertPem = ca.rootCertPem;
  await ca.close();
  return rootCertPem;
}

describe('self-signed root', () => {
  it('is generated on first start, persisted with a 0600 key, and kept across restarts', async () => {
    const stateDir = join(dir, 'restart');
    const first = await startAndStop(stateDir);
    const second = await startAndStop(stateDir, { caKeyType: 'rsa' });
    expect(second).toBe(first);
    expect(readFileSync(join(stateDir, 'root-cert.pem'), 'utf8')).toBe(first);
    expect(statSync(join(stateDir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'token-signing-key.pem')).mode & 0o777).toBe(0o600);
    const root = new X509Certificate(first);
    expect(root.ca).toBe(true);
    expect(root.subject).toBe('O=cluster.local\nCN=Weft Root CA');
    const years = (Date.parse(root.validTo) - Date.parse(root.validFrom)) / (365 * 86_400_000);
    expect(Math.round(years)).toBe(10);
  });

  it.each([
    { name: 'ec', keyType: 'ec' as const, algorithm: 'id-ecPublicKey' },
    { name: 'rsa', keyType: 'rsa' as const, algorithm: 'rsaEncryption' },
  ])('honours --ca-key-type $name', async ({ keyType, algorithm }) => {
    const stateDir = join(dir, `key-${keyType}`);
    await startAndStop(stateDir, { caKeyType: keyType });
    expect(openssl(['x509', '-in', join(stateDir, 'root-cert.pem'), '-noout', '-text'])).toContain(algorithm);
  });

  it('refuses to start when the key is there without its certificate', async () => {
    const stateDir = join(dir, 'broken');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'ca-key.pem'), 'x');
    await expect(startCa(caOptions(stateDir), quiet)).rejects.toMatchObject({ code: 'state-dir' });
  });
});

describe('plugged-in CA', () => {
  async function pluggedDir(name: string) {
    const root = await createSelfSignedRoot({
      key: { type: 'rsa', bits: 2048 },
      subject: { organization: 'corp', commonName: 'Corp Root' },
    });
    const intermediate = await createIntermediate({
      ca: root,
      subject: { organization: 'corp', commonName: 'Mesh Intermediate' },
    });
    const plugged = join(dir, name);
    mkdirSync(plugged, { recursive: true });
    writeFileSync(join(plugged, 'ca-cert.pem'), intermediate.certPem);
    writeFileSync(join(plugged, 'ca-key.pem'), intermediate.keyPem, { mode: 0o600 });
    writeFileSync(join(plugged, 'root-cert.pem'), root.certPem);
    writeFileSync(join(plugged, 'cert-chain.pem'), intermediate.certPem + root.certPem);
    return { plugged, root, intermediate };
  }

  it('signs with the operator intermediate; chain is leaf, intermediate, root and openssl verifies it', async () => {
    const { plugged, root, intermediate } = await pluggedDir('cacerts');
    const t = await startTestCa(join(dir, 'plugged-state'), { pluggedCaDir: plugged });
    expect(t.ca.mode).toBe('plugged');
    expect(readFileSync(join(t.stateDir, 'root-cert.pem'), 'utf8')).toBe(
      new X509Certificate(root.certPem).toString(),
    );
    const chain = await t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, {
      token: await t.token('a', 'x'),
    });
    expect(chain.map((pem) => new X509Certificate(pem).subject)).toEqual([
      undefined,
      'O=corp\nCN=Mesh Intermediate',
      'O=corp\nCN=Corp Root',
    ]);
    expect(new X509Certificate(chain[1]!).fingerprint256).toBe(
      new X509Certificate(intermediate.certPem).fingerprint256,
    );
    const leaf = writeTemp(dir, 'plugged-leaf.pem', chain[0]!);
    const untrusted = writeTemp(dir, 'plugged-inter.pem', chain[1]!);
    expect(
      openssl(['verify', '-CAfile', join(t.stateDir, 'root-cert.pem'), '-untrusted', untrusted, leaf]),
    ).toContain('OK');
  });

  it.each([
    {
      name: 'a key that does not match ca-cert.pem',
      spoil: async (p: string) =>
        writeFileSync(join(p, 'ca-key.pem'), (await createSelfSignedRoot({ subject: {} })).keyPem),
      message: /ca-key\.pem: CA private key does not match/,
    },
    {
      name: 'a root-cert.pem that does not anchor the chain',
      spoil: async (p: string) => {
        const other = (await createSelfSignedRoot({ subject: { commonName: 'other' } })).certPem;
        writeFileSync(join(p, 'root-cert.pem'), other);
        writeFileSync(join(p, 'cert-chain.pem'), readFileSync(join(p, 'ca-cert.pem'), 'utf8'));
      },
      message: /does not chain ca-cert\.pem to root-cert\.pem/,
    },
    {
      name: 'an empty ca-key.pem',
      spoil: async (p: string) => writeFileSync(join(p, 'ca-key.pem'), ''),
      message: /ca-key\.pem: private key is not a readable PEM key/,
    },
    {
      name: 'a missing ca-key.pem',
      spoil: async (p: string) => rmSync(join(p, 'ca-key.pem')),
      message: /ca-key\.pem is missing/,
    },
  ])('refuses $name', async ({ spoil, message }) => {
    const { plugged } = await pluggedDir(`bad-${Math.random().toString(36).slice(2)}`);
    await spoil(plugged);
    const started = startCa(caOptions(join(dir, 'bad-state'), { pluggedCaDir: plugged }), quiet);
    await expect(started).rejects.toMatchObject({
      code: 'plugged-ca',
      message: expect.stringMatching(message),
    });
  });
});

describe('serving certificate', () => {
  it('is issued by the CA for localhost, 127.0.0.1, ::1 and every --serving-names entry', async () => {
    const t = await startTestCa(join(dir, 'serving-state'), { servingNames: ['ca.weft.test', '10.9.8.7'] });
    const socket = connect({
      host: '127.0.0.1',
      port: t.ca.grpcPort,
      ca: t.ca.rootCertPem,
      servername: 'ca.weft.test',
      ALPNProtocols: ['h2'],
    });
    await once(socket, 'secureConnect');
    expect(socket.authorized).toBe(true);
    const names = (socket.getPeerCertificate().subjectaltname ?? '').split(', ');
    socket.destroy();
    expect(names.sort()).toEqual(
      [
        'DNS:ca.weft.test',
        'DNS:localhost',
        'IP Address:10.9.8.7',
        'IP Address:127.0.0.1',
        'IP Address:0:0:0:0:0:0:0:1',
      ].sort(),
    );
  });
});
