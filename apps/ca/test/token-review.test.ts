/**
 * Cluster mode (--kube): tokens are checked with TokenReview through
 * @kubernetes/client-node against the Kubernetes API double
 * (POST /apis/authentication.k8s.io/v1/tokenreviews).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLogger, createMetrics } from '@weft/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaStartError } from '../src/signing/ca-errors.ts';
import { startCa } from '../src/start-ca.ts';
import {
  caOptions,
  refusal,
  spiffeId,
  startTestCa,
  type TestCa,
  useTempDir,
  workloadCsr,
  writeTemp,
} from './ca-harness.ts';
import { type KubeApiDouble, startKubeApiDouble } from './kube-api-double.ts';

const dir = useTempDir();
let api: KubeApiDouble;
let t: TestCa;

beforeAll(async () => {
  api = await startKubeApiDouble(dir);
  api.addNamespace('weft-system');
  api.tokens.set('token-a-x', { username: 'system:serviceaccount:a:x' });
  api.tokens.set('token-wrong-audience', {
    username: 'system:serviceaccount:a:x',
    audiences: ['kubernetes'],
  });
  api.tokens.set('token-node', { username: 'system:node:worker-1' });
  t = await startTestCa(join(dir, 'state'), { kube: true, kubeconfig: api.kubeconfig });
});

afterAll(() => api.close());

describe('TokenReview authentication', () => {
  it('issues for the service account the review names, asking for audience istio-ca', async () => {
    const chain = await t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, { token: 'token-a-x' });
    expect(chain).toHaveLength(2);
    expect(api.reviews.at(-1)).toEqual({
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

  it('answers UNAVAILABLE while the API server fails TokenReview calls', async () => {
    api.failNext('POST', /tokenreviews$/, 503);
    const error = await refusal(
      t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, { token: 'token-a-x' }),
    );
    expect(error.grpcCode).toBe(grpc.status.UNAVAILABLE);
    expect(error.message).toBe('authentication is unavailable; retry later');
    const chain = await t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, { token: 'token-a-x' });
    expect(chain).toHaveLength(2);
  });

  it('does not start when the API server cannot be reached (the root lives there)', async () => {
    const closed = createHttpServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const kubeconfig = writeTemp(
      dir,
      'down-kubeconfig',
      readFileSync(api.kubeconfig, 'utf8').replace(api.url, `https://127.0.0.1:${port}`),
    );
    const error = await startCa(caOptions(join(dir, 'down-state'), { kube: true, kubeconfig }), {
      logger: createLogger({ name: 'weft-ca', level: 'error', write: () => {} }),
      metrics: createMetrics({ serviceName: 'weft-ca' }),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CaStartError);
    expect(error).toMatchObject({
      code: 'kube-api',
      message: expect.stringMatching(/^cannot read Secret weft-system\/cacerts: /),
    });
  });
});
