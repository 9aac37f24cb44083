/**
 * Stopping the Kubernetes source ends its API traffic: a watch waiting out
 * client-node's reconnect delay (after a 410) when the server closes does
 * not reconnect afterwards.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@weft/telemetry';
import { expect, it } from 'vitest';
import { startDiscovery } from '../../src/index.ts';
import { startFakeKubeApiServer } from '../../src/sources/kube/testing/fake-kube-api-server.ts';
import { waitFor } from '../e2e/fixtures/mesh-config.ts';

it('sends no request after close, even while a reconnect is pending', async () => {
  const api = await startFakeKubeApiServer();
  const dir = await mkdtemp(join(tmpdir(), 'weft-kube-stop-'));
  try {
    await writeFile(join(dir, 'kubeconfig'), api.kubeconfig());
    const discovery = await startDiscovery({
      source: { kind: 'kubernetes', kubeconfig: join(dir, 'kubeconfig') },
      logger: createLogger({ name: 'weft-discovery', level: 'error', write: () => {} }),
    });
    await waitFor('every watch open', () => api.openWatches() === 5);
    const gone = api.goneResponses();
    const lists = () => api.requests.filter((r) => r.query.watch === undefined).length;
    const listed = lists();
    api.expire('http');
    // Each informer reconnects at once, gets 410, lists again, then waits (1 s) before watching.
    await waitFor('the 410s and re-lists', () => api.goneResponses() === gone + 5 && lists() === listed + 5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await discovery.close();
    const after = api.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(api.requests.slice(after)).toEqual([]);
    expect(api.openWatches()).toBe(0);
  } finally {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
});
