import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaClient } from './ca-client.ts';
import { createCsr } from './csr.ts';
import { type FakeCa, startFakeCa } from './fake-ca.ts';
import { generateKeyPair } from './key-pair.ts';
import { createTrustBundle, verifyChain } from './trust-bundle.ts';

let ca: FakeCa;

beforeAll(async () => {
  ca = await startFakeCa({
    tokens: { 'tok-a-x': { namespace: 'a', serviceAccount: 'x' } },
    maxTtlSeconds: 600,
  });
});

afterAll(() => ca.close());

async function csrFor(spiffeId: string): Promise<string> {
  const key = await generateKeyPair({ type: 'ec' });
  return createCsr({ privateKeyPem: key.privateKeyPem, spiffeId });
}

async function call(token: string, csr: string, validitySeconds = 0): Promise<string[] | grpc.status> {
  const client = createCaClient({
    address: ca.address,
    rootCertPem: ca.rootCertPem,
    token,
    serverName: 'localhost',
  });
  try {
    return await client.createCertificate(csr, validitySeconds);
  } catch (error) {
    return (error as { grpcCode: grpc.status }).grpcCode;
  } finally {
    client.close();
  }
}

describe('startFakeCa', () => {
  it('issues a verifiable chain for the token holder and records the call', async () => {
    const chain = await call('tok-a-x', await csrFor('spiffe://cluster.local/ns/a/sa/x'), 3600);
    if (!Array.isArray(chain)) throw new Error(`refused with ${chain}`);
    const roots = createTrustBundle([ca.rootCertPem]);
    if (!roots.ok) throw new Error('roots');
    expect(verifyChain({ chain, roots: roots.bundle, now: Date.now() })).toEqual({
      ok: true,
      spiffeId: 'spiffe://cluster.local/ns/a/sa/x',
    });
    expect(ca.calls.at(-1)).toEqual({
      token: 'tok-a-x',
      validitySeconds: 3600,
      status: grpc.status.OK,
      spiffeId: 'spiffe://cluster.local/ns/a/sa/x',
    });
  });

  it.each([
    {
      name: 'an unknown token',
      token: 'nope',
      id: 'spiffe://cluster.local/ns/a/sa/x',
      status: grpc.status.UNAUTHENTICATED,
    },
    {
      name: 'another identity',
      token: 'tok-a-x',
      id: 'spiffe://cluster.local/ns/a/sa/y',
      status: grpc.status.PERMISSION_DENIED,
    },
  ])('refuses $name', async ({ token, id, status }) => {
    expect(await call(token, await csrFor(id))).toBe(status);
    expect(ca.calls.at(-1)?.status).toBe(status);
  });

  it('refuses a malformed CSR with INVALID_ARGUMENT', async () => {
    expect(await call('tok-a-x', 'not a csr')).toBe(grpc.status.INVALID_ARGUMENT);
  });
});
