/**
 * Every refusal gets a specific gRPC status and a clear message, is counted
 * by reason and logged, and the CA keeps serving afterwards.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createCsr, generateKeyPair } from '@weft/pki';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  opensslCsr,
  refusal,
  spiffeId,
  startTestCa,
  type TestCa,
  useTempDir,
  workloadCsr,
} from './ca-harness.ts';

const dir = useTempDir();
let t: TestCa;

beforeAll(async () => {
  t = await startTestCa(join(dir, 'state'));
});

/** A CSR whose signature no longer matches: one byte of the signature flipped. */
async function badSignatureCsr(): Promise<string> {
  const { csrPem } = await workloadCsr(spiffeId('a', 'x'));
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 3]! ^= 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** A token signed by a key that is not the CA's, with otherwise perfect claims. */
async function forgedToken(): Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer('weft-ca')
    .setSubject('system:serviceaccount:a:x')
    .setAudience('istio-ca')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
}

async function csrWithNames(names: {
  uris?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}): Promise<string> {
  const key = await generateKeyPair({ type: 'ec' });
  return createCsr({ privateKeyPem: key.privateKeyPem, ...names });
}

const ID = spiffeId('a', 'x');

describe('refusals', () => {
  it.each([
    {
      name: 'malformed PEM',
      csr: async () =>
        '-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all!\n-----END CERTIFICATE REQUEST-----',
      status: grpc.status.INVALID_ARGUMENT,
      message: /invalid CSR: csr: no PEM "CERTIFICATE REQUEST" block found/,
      reason: 'bad-csr',
    },
    {
      name: 'truncated DER',
      csr: async () => '-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----',
      status: grpc.status.INVALID_ARGUMENT,
      message: /invalid CSR: csr: CSR is not valid DER/,
      reason: 'bad-csr',
    },
    {
      name: 'a CSR with a bad signature',
      csr: badSignatureCsr,
      status: grpc.status.INVALID_ARGUMENT,
      message: /csr.signature: CSR signature does not verify/,
      reason: 'bad-csr',
    },
    {
      name: 'an empty CSR',
      csr: async () => '',
      status: grpc.status.INVALID_ARGUMENT,
      message: /csr is empty/,
      reason: 'invalid-request',
    },
    {
      name: 'an oversized CSR',
      csr: async () => `${(await workloadCsr(ID)).csrPem}${' '.repeat(20_000)}`,
      status: grpc.status.INVALID_ARGUMENT,
      message: /the limit is 16384/,
      reason: 'invalid-request',
    },
    {
      name: 'an extra URI SAN',
      csr: () => csrWithNames({ uris: [ID, spiffeId('a', 'admin')] }),
      status: grpc.status.PERMISSION_DENIED,
      message: /did not prove .*URI:spiffe:\/\/cluster\.local\/ns\/a\/sa\/admin/,
      reason: 'permission-denied',
    },
    {
      name: 'a DNS SAN that was not proved',
      csr: () => csrWithNames({ uris: [ID], dnsNames: ['bank.example.com'] }),
      status: grpc.status.PERMISSION_DENIED,
      message: /DNS:bank\.example\.com/,
      reason: 'permission-denied',
    },
    {
      name: 'an IP SAN (openssl req)',
      csr: async () => opensslCsr(dir, `URI:${ID},IP:10.1.2.3`).csrPem,
      status: grpc.status.PERMISSION_DENIED,
      message: /IP:10\.1\.2\.3/,
      reason: 'permission-denied',
    },
    {
      name: 'no SAN at all',
      csr: () => csrWithNames({}),
      status: grpc.status.PERMISSION_DENIED,
      message: /must ask for spiffe:\/\/cluster\.local\/ns\/a\/sa\/x as its one URI SAN/,
      reason: 'permission-denied',
    },
    {
      name: 'another trust domain',
      csr: () => csrWithNames({ uris: ['spiffe://evil.example/ns/a/sa/x'] }),
      status: grpc.status.PERMISSION_DENIED,
      message: /URI:spiffe:\/\/evil\.example\/ns\/a\/sa\/x/,
      reason: 'permission-denied',
    },
  ])('refuses $name', async ({ csr, status, message, reason }) => {
    const error = await refusal(t.request(await csr(), { token: await t.token('a', 'x') }));
    expect(error.grpcCode).toBe(status);
    expect(error.message).toMatch(message);
    const logged = t.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'certificate request refused');
    expect(logged.at(-1)).toMatchObject({ level: 'warn', reason });
  });

  it('refuses a negative validity with INVALID_ARGUMENT', async () => {
    const error = await refusal(
      t.request((await workloadCsr(ID)).csrPem, { token: await t.token('a', 'x') }, -5),
    );
    expect(error.grpcCode).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.message).toBe('validity_duration must be zero or positive, got -5');
  });

  it('refuses a caller with a token for ns/a/sa/x asking for ns/a/sa/y', async () => {
    const { csrPem } = await workloadCsr(spiffeId('a', 'y'));
    const error = await refusal(t.request(csrPem, { token: await t.token('a', 'x') }));
    expect(error.code).toBe('permission-denied');
    expect(error.grpcCode).toBe(grpc.status.PERMISSION_DENIED);
    expect(error.message).toBe(
      'CSR asks for names the caller did not prove (caller is spiffe://cluster.local/ns/a/sa/x): URI:spiffe://cluster.local/ns/a/sa/y',
    );
  });

  it.each([
    {
      name: 'a missing token',
      token: async () => undefined,
      message: 'authentication failed: no bearer token or client certificate',
    },
    {
      name: 'an expired token',
      token: () => t.token('a', 'x', -10),
      message: 'authentication failed: credential expired',
    },
    { name: 'a forged token', token: forgedToken, message: 'authentication failed' },
    { name: 'a token that is not a JWT', token: async () => 'hello', message: 'authentication failed' },
  ])('refuses $name with UNAUTHENTICATED', async ({ token, message }) => {
    const { csrPem } = await workloadCsr(ID);
    const value = await token();
    const error = await refusal(t.request(csrPem, value ? { token: value } : {}));
    expect(error.grpcCode).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.message).toBe(message);
    const logged = t.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'certificate request refused');
    expect(logged.at(-1)).toMatchObject({ reason: 'unauthenticated' });
    expect(logged.at(-1).detail).toBeTruthy();
    if (value) expect(t.logs.join('')).not.toContain(value);
  });

  it('refuses a message over the gRPC size limit with RESOURCE_EXHAUSTED', async () => {
    const error = await refusal(t.request('x'.repeat(70_000), { token: await t.token('a', 'x') }));
    expect(error.grpcCode).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('keeps serving after every refusal and counts them by reason', async () => {
    const chain = await t.request((await workloadCsr(ID)).csrPem, { token: await t.token('a', 'x') });
    expect(chain).toHaveLength(2);
    const metrics = await (await fetch(`${t.ca.httpUrl}/metrics`)).text();
    for (const reason of ['bad-csr', 'invalid-request', 'permission-denied', 'unauthenticated']) {
      expect(metrics).toMatch(
        new RegExp(`weft_ca_csr_rejected_total\\{[^}]*reason="${reason}"[^}]*\\} [1-9]`),
      );
    }
  });
});
