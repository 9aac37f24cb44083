/**
 * End-to-end harness: a real CA on ephemeral loopback ports with a fresh
 * state dir, tokens minted the way `weft-ca token` mints them, clients from
 * @weft/pki, and OpenSSL as the peer that makes CSRs and judges certificates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaClientError, createCaClient, createCsr, generateKeyPair, type KeyPairOptions } from '@weft/pki';
import { createLogger, createMetrics } from '@weft/telemetry';
import { afterAll } from 'vitest';
import { loadTokenSigningKey, mintLocalToken } from '../src/authn/local-token.ts';
import type { CaOptions } from '../src/config/flags.ts';
import { type RunningCa, startCa } from '../src/start-ca.ts';

export const TRUST_DOMAIN = 'cluster.local';

export function spiffeId(namespace: string, serviceAccount: string): string {
  return `spiffe://${TRUST_DOMAIN}/ns/${namespace}/sa/${serviceAccount}`;
}

/** A temporary directory removed after the test file. */
export function useTempDir(prefix = 'weft-ca-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** CaOptions for a loopback test CA; override any field. */
export function caOptions(stateDir: string, overrides: Partial<CaOptions> = {}): CaOptions {
  return {
    stateDir,
    grpcAddr: { host: '127.0.0.1', port: 0 },
    httpAddr: { host: '127.0.0.1', port: 0 },
    trustDomain: TRUST_DOMAIN,
    certTtlSeconds: 3600,
    maxCertTtlSeconds: 7200,
    caKeyType: 'ec',
    servingNames: [],
    kube: false,
    logLevel: 'debug',
    ...overrides,
  };
}

export interface TestCa {
  ca: RunningCa;
  stateDir: string;
  /** Every log line the CA wrote. */
  logs: string[];
  token(namespace: string, serviceAccount: string, ttlSeconds?: number): Promise<string>;
  /** One CreateCertificate call through the @weft/pki client. */
  request(
    csrPem: string,
    credentials: { token?: string; clientCert?: string; clientKey?: string },
    validitySeconds?: number,
  ): Promise<string[]>;
}

/** Starts a CA for the test file and stops it afterwards. */
export async function startTestCa(stateDir: string, overrides: Partial<CaOptions> = {}): Promise<TestCa> {
  const logs: string[] = [];
  const ca = await startCa(caOptions(stateDir, overrides), {
    logger: createLogger({ name: 'weft-ca', level: 'debug', write: (line) => logs.push(line) }),
    metrics: createMetrics({ serviceName: 'weft-ca' }),
  });
  afterAll(() => ca.close());
  return {
    ca,
    stateDir,
    logs,
    token: async (namespace, serviceAccount, ttlSeconds = 600) =>
      mintLocalToken(await loadTokenSigningKey(stateDir), { namespace, serviceAccount, ttlSeconds }),
    request: async (csrPem, credentials, validitySeconds = 0) => {
      const client = createCaClient({
        address: ca.grpcAddress,
        rootCertPem: ca.rootCertPem,
        serverName: 'localhost',
        timeoutMs: 5000,
        ...credentials,
      });
      try {
        return await client.createCertificate(csrPem, validitySeconds);
      } finally {
        client.close();
      }
    },
  };
}

/** A workload key and a CSR for `id` made by @weft/pki. */
export async function workloadCsr(
  id: string,
  key: KeyPairOptions = { type: 'ec' },
): Promise<{ keyPem: string; csrPem: string }> {
  const keyPair = await generateKeyPair(key);
  return {
    keyPem: keyPair.privateKeyPem,
    csrPem: createCsr({ privateKeyPem: keyPair.privateKeyPem, spiffeId: id }),
  };
}

export function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `openssl req` with an EC P-256 (or RSA 2048) key and the given subjectAltName text. */
export function opensslCsr(dir: string, san: string, rsa = false): { csrPem: string; keyPem: string } {
  const keyPath = join(dir, `k-${Math.random().toString(36).slice(2)}.pem`);
  const keyArgs = rsa ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const csrPem = openssl([
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    keyPath,
    '-subj',
    '/',
    '-addext',
    `subjectAltName=${san}`,
  ]);
  return { csrPem, keyPem: readFileSync(keyPath, 'utf8') };
}

export function writeTemp(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The CaClientError a call fails with; throws if it succeeds or fails otherwise. */
export async function refusal(call: Promise<string[]>): Promise<CaClientError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CaClientError)) throw new Error(`expected a CaClientError, got ${String(error)}`);
  return error;
}
