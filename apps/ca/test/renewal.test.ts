/**
 * Renewal with a still-valid client certificate issued by this CA, in place
 * of a token; certificates from elsewhere prove nothing.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createCertificateSigner, createSelfSignedRoot, generateKeyPair, spiffeIdOf } from '@weft/pki';
import { beforeAll, describe, expect, it } from 'vitest';
import { refusal, spiffeId, startTestCa, type TestCa, useTempDir, workloadCsr } from './ca-harness.ts';

const dir = useTempDir();
let t: TestCa;

beforeAll(async () => {
  t = await startTestCa(join(dir, 'state'));
});

async function firstCertificate(namespace: string, serviceAccount: string) {
  const { keyPem, csrPem } = await workloadCsr(spiffeId(namespace, serviceAccount));
  const chain = await t.request(csrPem, { token: await t.token(namespace, serviceAccount) });
  return { clientKey: keyPem, clientCert: chain.slice(0, -1).join('') };
}

describe('renewal with a client certificate', () => {
  it('issues a new certificate for the same identity without a token', async () => {
    const credentials = await firstCertificate('a', 'x');
    const { csrPem } = await workloadCsr(spiffeId('a', 'x'));
    const chain = await t.request(csrPem, credentials);
    expect(spiffeIdOf(chain[0]!)).toBe(spiffeId('a', 'x'));
    const serial = new X509Certificate(chain[0]!).serialNumber.toLowerCase();
    const auditLine = async () =>
      (await readFile(join(t.stateDir, 'audit.log'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .find((line) => line.serial === serial);
    await expect.poll(auditLine, { timeout: 2000 }).toMatchObject({
      caller: {
        method: 'client-certificate',
        subject: expect.stringMatching(/^certificate serial [0-9a-f]+$/),
      },
    });
  });

  it('does not let a certificate for ns/a/sa/x renew ns/a/sa/y', async () => {
    const credentials = await firstCertificate('a', 'x');
    const error = await refusal(t.request((await workloadCsr(spiffeId('a', 'y'))).csrPem, credentials));
    expect(error.grpcCode).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('ignores a client certificate from another CA', async () => {
    const stranger = await createSelfSignedRoot({ subject: { commonName: 'elsewhere' } });
    const key = await generateKeyPair({ type: 'ec' });
    const cert = createCertificateSigner(stranger).issue({
      publicKey: key.publicKeyPem,
      spiffeId: spiffeId('a', 'x'),
      ttlSeconds: 600,
    });
    const error = await refusal(
      t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, {
        clientCert: cert.certPem,
        clientKey: key.privateKeyPem,
      }),
    );
    expect(error.grpcCode).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.message).toBe('authentication failed: no bearer token or client certificate');
  });
});
