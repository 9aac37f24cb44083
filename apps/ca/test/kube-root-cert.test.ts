/**
 * --kube trust bundle publishing: ConfigMap `istio-ca-root-cert` in every
 * namespace, kept there and kept right, through the real
 * @kubernetes/client-node informers against the Kubernetes API double.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCa, type TestCa, useTempDir } from './ca-harness.ts';
import { type KubeApiDouble, type KubeObject, startKubeApiDouble } from './kube-api-double.ts';

const dir = useTempDir();
let api: KubeApiDouble;
let t: TestCa;

/** Polls `probe` every 20 ms until it returns true; fails after `timeoutMs`. */
async function eventually(what: string, probe: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function published(namespace: string): KubeObject | undefined {
  return api.get('configmaps', namespace, 'istio-ca-root-cert');
}

function publishedRoot(namespace: string): string | undefined {
  return (published(namespace)?.data as Record<string, string> | undefined)?.['root-cert.pem'];
}

function otherConfigMap(
  namespace: string,
  rootCertPem: string,
  extra: Record<string, string> = {},
): KubeObject {
  return {
    metadata: { name: 'istio-ca-root-cert', namespace },
    data: { 'root-cert.pem': rootCertPem, ...extra },
  };
}

beforeAll(async () => {
  api = await startKubeApiDouble(dir);
  for (const namespace of ['weft-system', 'default', 'bookinfo']) api.addNamespace(namespace);
  api.addNamespace('leaving', 'Terminating');
  api.put('configmaps', otherConfigMap('bookinfo', 'stale root'));
  t = await startTestCa(join(dir, 'state'), { kube: true, kubeconfig: api.kubeconfig });
  await t.ca.rootCertPublished;
});

afterAll(async () => {
  await t.ca.close();
  await api.close();
});

describe('root cert ConfigMap istio-ca-root-cert', () => {
  it.each(['weft-system', 'default'])('is created in %s before rootCertPublished resolves', (namespace) => {
    expect(publishedRoot(namespace)).toBe(t.ca.rootCertPem);
    expect(published(namespace)?.metadata.labels).toMatchObject({ 'istio.io/config': 'true' });
  });

  it('replaces a stale root-cert.pem found at start', () => {
    expect(publishedRoot('bookinfo')).toBe(t.ca.rootCertPem);
  });

  it('is not written into a namespace being deleted', () => {
    expect(published('leaving')).toBeUndefined();
    expect(api.requests.filter((r) => r.includes('/namespaces/leaving/'))).toEqual([]);
  });

  it('appears in a namespace created later', async () => {
    api.addNamespace('late');
    await eventually('the ConfigMap in late', () => publishedRoot('late') === t.ca.rootCertPem);
  });

  it('is recreated after someone deletes it', async () => {
    api.delete('configmaps', 'default', 'istio-ca-root-cert');
    expect(published('default')).toBeUndefined();
    await eventually('the ConfigMap back in default', () => publishedRoot('default') === t.ca.rootCertPem);
  });

  it('is put back when edited, keeping keys it does not own', async () => {
    api.put('configmaps', otherConfigMap('weft-system', 'tampered', { note: 'kept' }));
    await eventually('root-cert.pem restored', () => publishedRoot('weft-system') === t.ca.rootCertPem);
    expect(published('weft-system')?.data).toMatchObject({ note: 'kept' });
  });

  it('is written once failed API calls succeed again, with a warning per failure', async () => {
    api.failNext('POST', /\/namespaces\/flaky\/configmaps$/, 500, 2);
    api.addNamespace('flaky');
    await eventually('the ConfigMap in flaky', () => publishedRoot('flaky') === t.ca.rootCertPem);
    const warnings = t.logs
      .map((line) => JSON.parse(line) as { msg: string; namespace?: string; error?: string })
      .filter((l) => l.msg === 'cannot publish root cert ConfigMap; will retry' && l.namespace === 'flaky');
    expect(warnings.map((w) => w.error)).toEqual([
      'HTTP 500: injected failure',
      'HTTP 500: injected failure',
    ]);
  });

  it('keeps up after a watch is dropped and its resourceVersion expired (410 Gone, re-list)', async () => {
    api.compact();
    api.dropWatches();
    api.addNamespace('after-gone');
    await eventually('the ConfigMap in after-gone', () => publishedRoot('after-gone') === t.ca.rootCertPem);
    const lists = api.requests.filter((r) => r === 'GET /api/v1/namespaces');
    expect(lists.length).toBeGreaterThanOrEqual(2);
  });

  it('stops writing after close', async () => {
    await t.ca.close();
    const before = api.requests.length;
    api.addNamespace('after-close');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(published('after-close')).toBeUndefined();
    expect(api.requests.slice(before)).toEqual([]);
  });
});
