/**
 * The built binary in cluster mode: `weft-discovery --kube --kubeconfig F`
 * against the API server double. It syncs, is ready, serves the admission
 * webhooks over HTTPS with a certificate for the Service DNS name, writes
 * that CA into the webhook configurations, and exits 0 on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeKubeApiServer,
  startFakeKubeApiServer,
} from '../../src/sources/kube/testing/fake-kube-api-server.ts';
import { waitFor } from '../e2e/fixtures/mesh-config.ts';
import { admissionReview, postToWebhook } from '../webhook/webhook-client.ts';
import { namespaceObject } from './kube-builders.ts';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

type LogLine = Record<string, unknown> & { msg: string };

describe('the weft-discovery binary with --kube', () => {
  let api: FakeKubeApiServer;
  let dir: string;
  let child: ChildProcess;
  const log: LogLine[] = [];
  let ready: LogLine;

  beforeAll(async () => {
    api = await startFakeKubeApiServer();
    api.apply(namespaceObject('shop', { 'istio-injection': 'enabled' }));
    api.apply({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'weft-sidecar-injector' },
      webhooks: [
        {
          name: 'inject.weft.io',
          clientConfig: { service: { name: 'weft-discovery', namespace: 'weft-system', path: '/inject' } },
        },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'weft-kube-bin-'));
    await writeFile(join(dir, 'kubeconfig'), api.kubeconfig());
    child = spawn(
      process.execPath,
      [
        MAIN,
        '--kube',
        '--kubeconfig',
        join(dir, 'kubeconfig'),
        '--xds-addr',
        '127.0.0.1:0',
        '--http-addr',
        '127.0.0.1:0',
        '--webhook-addr',
        '127.0.0.1:0',
        '--proxy-image',
        'weft-proxy:e2e',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    createInterface({ input: child.stderr! }).on('line', (line) => log.push(JSON.parse(line) as LogLine));
    await waitFor('the ready line', () => log.some((l) => l.msg === 'ready'), 15_000);
    ready = log.find((l) => l.msg === 'ready')!;
  });

  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is ready once the informers synced, and says which Istio kinds are missing', async () => {
    const response = await fetch(`http://${String(ready.httpAddress)}/ready`);
    expect(response.status).toBe(200);
    expect(log.filter((l) => l.msg === 'Istio kind not served by the cluster')).toHaveLength(9);
  });

  it('injects through the webhook, trusted via the caBundle it wrote', async () => {
    const config = api.get(
      'admissionregistration.k8s.io/v1',
      'MutatingWebhookConfiguration',
      undefined,
      'weft-sidecar-injector',
    ) as unknown as {
      webhooks: { clientConfig: { caBundle?: string } }[];
    };
    const caPem = Buffer.from(config.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8');
    expect(caPem).toContain('BEGIN CERTIFICATE');
    const body = admissionReview(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web' },
        spec: { containers: [{ name: 'web', image: 'web:1' }] },
      },
      { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'shop' },
    );
    const reply = await postToWebhook(String(ready.webhookAddress), '/inject', body, {
      caPem,
      serverName: 'weft-discovery.weft-system.svc',
    });
    expect(reply.status).toBe(200);
    const review = JSON.parse(reply.text) as { response: { allowed: boolean; patch: string } };
    expect(review.response.allowed).toBe(true);
    expect(Buffer.from(review.response.patch, 'base64').toString('utf8')).toContain(
      '"image":"weft-proxy:e2e"',
    );
  });

  it('exits 0 on SIGTERM', async () => {
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
