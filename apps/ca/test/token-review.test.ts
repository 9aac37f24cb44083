/**
 * Cluster mode (--kube): tokens are checked with TokenReview through
 * @kubernetes/client-node against a small real HTTPS server that speaks the
 * Kubernetes TokenReview API (POST /apis/authentication.k8s.io/v1/tokenreviews).
 */
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createSelfSignedRoot, generateKeyPair, signCertificate } from '@weft/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  refusal,
  spiffeId,
  startTestCa,
  type TestCa,
  useTempDir,
  workloadCsr,
  writeTemp,
} from './ca-harness.ts';

interface ReviewBody {
  spec: { token: string; audiences?: string[] };
}

/** Answers per token: who it is and which audiences it is valid for. */
const TOKENS: Record<string, { username: string; audiences?: string[] }> = {
  'token-a-x': { username: 'system:serviceaccount:a:x' },
  'token-wrong-audience': { username: 'system:serviceaccount:a:x', audiences: ['kubernetes'] },
  'token-node': { username: 'system:node:worker-1' },
};

const dir = useTempDir();
const reviews: { body: ReviewBody; authorization?: string }[] = [];
let apiServer: Server;
let t: TestCa;

let apiCaPem = '';

function kubeconfig(server: string, name: string): string {
  return writeTemp(
    dir,
    name,
    `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${server}
    certificate-authority-data: ${Buffer.from(apiCaPem).toString('base64')}
users:
- name: weft-ca
  user:
    token: ca-own-credential
contexts:
- name: test
  context: { cluster: test, user: weft-ca }
current-context: test
`,
  );
}

beforeAll(async () => {
  const apiCa = await createSelfSignedRoot({ subject: { commonName: 'test kube-apiserver CA' } });
  apiCaPem = apiCa.certPem;
  const apiKey = await generateKeyPair({ type: 'ec' });
  const apiCert = signCertificate(apiCa, {
    publicKey: apiKey.publicKeyPem,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    ttlSeconds: 3600,
  });
  apiServer = createServer({ key: apiKey.privateKeyPem, cert: apiCert.certPem }, (req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/apis/authentication.k8s.io/v1/tokenreviews') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as ReviewBody;
      reviews.push({ body, authorization: req.headers.authorization });
      const known = TOKENS[body.spec.token];
      const status = known
        ? {
            authenticated: true,
            user: { username: known.username },
            audiences: known.audiences ?? body.spec.audiences,
          }
        : { authenticated: false, error: 'invalid bearer token' };
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: body.spec,
          status,
        }),
      );
    });
  });
  apiServer.listen(0, '127.0.0.1');
  await once(apiServer, 'listening');
  const url = `https://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
  t = await startTestCa(join(dir, 'state'), { kube: true, kubeconfig: kubeconfig(url, 'kubeconfig') });
});

afterAll(() => {
  apiServer.close();
});

describe('TokenReview authentication', () => {
  it('issues for the service account the review names, asking for audience istio-ca', async () => {
    const chain = await t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, { token: 'token-a-x' });
    expect(chain).toHaveLength(2);
    expect(reviews.at(-1)).toEqual({
      body: expect.objectContaining({ spec: { token: 'token-a-x', audiences: ['istio-ca'] } }),
      authorization: 'Bearer ca-own-credential',
    });
  });

  it('refuses a reviewed caller asking for another service account', async () => {
    const error = await refusal(
      t.request((await workloadCsr(spiffeId('a', 'y'))).csrPem, { token: 'token-a-x' }),
    );
    expect(error.grpcCode).toBe(grpc.status.PERMISSION_DENIED);
  });

  it.each([
    {
      name: 'a token the API server rejects',
      token: 'forged',
      detail: /not authenticated \(invalid bearer token\)/,
    },
    {
      name: 'a token for another audience',
      token: 'token-wrong-audience',
      detail: /not valid for audience istio-ca/,
    },
    { name: 'a user that is not a service account', token: 'token-node', detail: /system:node:worker-1/ },
  ])('refuses $name with UNAUTHENTICATED and logs why', async ({ token, detail }) => {
    const error = await refusal(t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, { token }));
    expect(error.grpcCode).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.message).toBe('authentication failed');
    const logged = t.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'certificate request refused');
    expect(logged.at(-1)?.detail).toMatch(detail);
  });

  it('answers UNAVAILABLE when the API server cannot be reached', async () => {
    const closed = createHttpServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const down = await startTestCa(join(dir, 'down-state'), {
      kube: true,
      kubeconfig: kubeconfig(`https://127.0.0.1:${port}`, 'down-kubeconfig'),
    });
    const error = await refusal(
      down.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, { token: 'token-a-x' }),
    );
    expect(error.grpcCode).toBe(grpc.status.UNAVAILABLE);
    expect(error.message).toBe('authentication is unavailable; retry later');
  });
});
