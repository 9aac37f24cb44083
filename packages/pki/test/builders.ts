/**
 * Test builders shared by the package's tests: OpenSSL as a real peer and
 * judge, temporary directories, and ready-made CAs and workloads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { CaCertificate } from '../src/certificate-signer.ts';
import { createCertificateSigner, createSelfSignedRoot } from '../src/certificate-signer.ts';
import { generateKeyPair, type KeyPairOptions } from '../src/key-pair.ts';

/** A fresh directory removed after the file's tests. */
export function useTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-pki-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `openssl` and returns stdout; throws with stderr on failure. */
export function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs `openssl` and returns its exit status and combined output, never throwing. */
export function opensslStatus(args: string[]): { status: number; output: string } {
  try {
    return { status: 0, output: openssl(args) };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    return { status: e.status ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** `openssl req` key arguments for a key kind. */
const OPENSSL_KEY: Record<string, string[]> = {
  'ec-p256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'ec-p384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  'rsa-2048': ['-newkey', 'rsa:2048'],
  'rsa-4096': ['-newkey', 'rsa:4096'],
  'rsa-1024': ['-newkey', 'rsa:1024'],
  ed25519: ['-newkey', 'ed25519'],
};

/** A CSR made by `openssl req` with the given SAN extension text (e.g. `URI:spiffe://td/ns/a/sa/x`). */
export function opensslCsr(
  dir: string,
  key: keyof typeof OPENSSL_KEY,
  san: string,
  subject = '/',
): {
  csrPem: string;
  keyPem: string;
} {
  const keyPath = join(dir, `openssl-${key}-${Math.random().toString(36).slice(2)}.key`);
  const csrPem = openssl([
    'req',
    '-new',
    ...OPENSSL_KEY[key]!,
    '-nodes',
    '-keyout',
    keyPath,
    '-subj',
    subject,
    ...(san ? ['-addext', `subjectAltName=${san}`] : []),
  ]);
  return { csrPem, keyPem: readFileSync(keyPath, 'utf8') };
}

export const TRUST_DOMAIN = 'cluster.local';

export function workloadId(namespace: string, serviceAccount: string): string {
  return `spiffe://${TRUST_DOMAIN}/ns/${namespace}/sa/${serviceAccount}`;
}

/** A self-signed root CA of the given key kind. */
export function buildRoot(
  key: KeyPairOptions = { type: 'ec' },
  clock?: () => number,
): Promise<CaCertificate> {
  return createSelfSignedRoot({
    key,
    subject: { organization: 'weft-test', commonName: 'Weft Test Root' },
    clock,
  });
}

/** A workload key and its certificate for `spiffeId`, issued by `ca`. */
export async function buildWorkload(
  ca: CaCertificate,
  spiffeId: string,
  key: KeyPairOptions = { type: 'ec' },
  ttlSeconds = 3600,
): Promise<{ keyPem: string; certPem: string }> {
  const keyPair = await generateKeyPair(key);
  const issued = createCertificateSigner({ certPem: ca.certPem, keyPem: ca.keyPem }).issue({
    publicKey: keyPair.publicKeyPem,
    spiffeId,
    ttlSeconds,
  });
  return { keyPem: keyPair.privateKeyPem, certPem: issued.certPem };
}
