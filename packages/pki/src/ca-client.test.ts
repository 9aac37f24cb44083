import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRoot, buildWorkload } from '../test/builders.ts';
import { CaClientError, createCaClient } from './ca-client.ts';
import { type CaCertificate, createCertificateSigner } from './certificate-signer.ts';
import { type IstioCertificateRequest, loadIstioCertificateService } from './istio-ca-proto.ts';
import { generateKeyPair } from './key-pair.ts';

/** What the test server answers, chosen by the CSR text the client sends. */
type Reply = { chain: string[] } | { status: grpc.status; details: string };

let root: CaCertificate;
let server: grpc.Server;
let port: number;
const seen: { authorization?: string; clusterId?: string; validity?: number }[] = [];
const replies = new Map<string, Reply>();

beforeAll(async () => {
  root = await buildRoot();
  const servingKey = await generateKeyPair();
  const servingCert = createCertificateSigner(root).issue({
    publicKey: servingKey.publicKeyPem,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    ttlSeconds: 3600,
  });
  const leaf = await buildWorkload(root, 'spiffe://cluster.local/ns/a/sa/x');
  replies.set('ok', { chain: [leaf.certPem, root.certPem] });
  replies.set('short', { chain: [leaf.certPem] });
  replies.set('garbage', { chain: ['nope', 'nope'] });
  replies.set('denied', { status: grpc.status.PERMISSION_DENIED, details: 'not yours' });
  replies.set('unauth', { status: grpc.status.UNAUTHENTICATED, details: 'authentication failed' });
  replies.set('invalid', { status: grpc.status.INVALID_ARGUMENT, details: 'bad csr' });
  replies.set('internal', { status: grpc.status.INTERNAL, details: 'boom' });

  server = new grpc.Server();
  server.addService(loadIstioCertificateService().service, {
    CreateCertificate: (
      call: grpc.ServerUnaryCall<IstioCertificateRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      seen.push({
        authorization: call.metadata.get('authorization')[0]?.toString(),
        clusterId: call.metadata.get('clusterid')[0]?.toString(),
        validity: call.request.validity_duration,
      });
      const reply = replies.get(call.request.csr);
      if (!reply) callback({ code: grpc.status.UNKNOWN, details: 'no reply configured' });
      else if ('chain' in reply) callback(null, { cert_chain: reply.chain });
      else callback({ code: reply.status, details: reply.details });
    },
  });
  const credentials = grpc.ServerCredentials.createSsl(null, [
    { private_key: Buffer.from(servingKey.privateKeyPem), cert_chain: Buffer.from(servingCert.certPem) },
  ]);
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
});

afterAll(() => {
  server.forceShutdown();
});

describe('createCaClient', () => {
  it('sends the CSR, validity, bearer token and cluster ID, and returns the chain', async () => {
    const client = createCaClient({
      address: `127.0.0.1:${port}`,
      rootCertPem: root.certPem,
      getToken: () => 'tok-1',
      clusterId: 'Kubernetes',
    });
    try {
      const chain = await client.createCertificate('ok', 7200);
      expect(chain).toHaveLength(2);
      expect(seen.at(-1)).toEqual({ authorization: 'Bearer tok-1', clusterId: 'Kubernetes', validity: 7200 });
    } finally {
      client.close();
    }
  });

  it.each([
    { name: 'PERMISSION_DENIED', csr: 'denied', code: 'permission-denied', message: 'not yours' },
    { name: 'UNAUTHENTICATED', csr: 'unauth', code: 'unauthenticated', message: 'authentication failed' },
    { name: 'INVALID_ARGUMENT', csr: 'invalid', code: 'invalid-argument', message: 'bad csr' },
    { name: 'another status', csr: 'internal', code: 'failed', message: 'boom' },
    { name: 'a chain of one', csr: 'short', code: 'bad-response', message: /chain of 1/ },
    { name: 'an unreadable chain', csr: 'garbage', code: 'bad-response', message: /unreadable chain/ },
  ])('maps $name to $code', async ({ csr, code, message }) => {
    const client = createCaClient({ address: `127.0.0.1:${port}`, rootCertPem: root.certPem, token: 't' });
    try {
      const error = await client.createCertificate(csr, 60).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CaClientError);
      expect(error).toMatchObject({ code });
      expect((error as Error).message).toMatch(message);
    } finally {
      client.close();
    }
  });

  it('fails with token-unavailable when getToken throws, without calling the CA', async () => {
    const calls = seen.length;
    const client = createCaClient({
      address: `127.0.0.1:${port}`,
      rootCertPem: root.certPem,
      getToken: () => Promise.reject(new Error('token file missing')),
    });
    try {
      await expect(client.createCertificate('ok', 60)).rejects.toMatchObject({
        code: 'token-unavailable',
        message: 'getToken failed: token file missing',
      });
      expect(seen.length).toBe(calls);
    } finally {
      client.close();
    }
  });

  it('fails with unavailable when the server is not trusted', async () => {
    const stranger = await buildRoot();
    const client = createCaClient({
      address: `127.0.0.1:${port}`,
      rootCertPem: stranger.certPem,
      token: 't',
      timeoutMs: 3000,
    });
    try {
      await expect(client.createCertificate('ok', 60)).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      client.close();
    }
  });
});
