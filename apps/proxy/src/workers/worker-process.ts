/**
 * A worker process of a multi-worker proxy: serves traffic on listeners
 * bound with SO_REUSEPORT, holds no ADS connection and no admin server.
 * Its config comes from the primary (each type's full accepted set, applied
 * through the same validation as xDS), and it answers admin queries.
 */
import type { Resource } from '@weft/xds';
import { renderClusters, renderStats } from '../admin/admin-server.ts';
import { type ProxyOptions, startProxy, type WeftProxy } from '../proxy.ts';
import { type FromWorker, isToWorker } from './worker-messages.ts';

/** Starts the worker's proxy and wires it to the primary over `process` IPC. */
export async function startWorker(options: ProxyOptions, onDrain: () => void): Promise<WeftProxy> {
  const { discoveryAddress: _ignored, ...rest } = options;
  const now = options.now ?? Date.now;
  const proxy = await startProxy({ ...rest, admin: null, status: [], reusePort: true });
  const send = (message: FromWorker): void => {
    if (process.connected) process.send?.(message);
  };
  process.on('message', (message: unknown) => {
    if (!isToWorker(message)) return;
    if (message.type === 'config') {
      const resources = message.resources.map(
        (r): Resource => ({
          typeUrl: message.typeUrl,
          name: r.name,
          body: r.body,
        }),
      );
      const problems = proxy.applyResources(message.typeUrl, resources, message.version);
      // Ready only once the listeners this config binds are listening.
      proxy
        .listenersSettled()
        .then(() => send({ type: 'status', ready: proxy.isReady(), problems }))
        .catch(() => {});
    } else if (message.type === 'query') {
      const answer =
        message.view === 'stats'
          ? Promise.resolve(renderStats(proxy.clusters))
          : message.view === 'clusters'
            ? Promise.resolve(renderClusters(proxy.clusters, now()))
            : proxy.metrics.scrape();
      answer.then(
        (text) => send({ type: 'answer', id: message.id, text }),
        (error: unknown) =>
          send({ type: 'answer', id: message.id, text: `# scrape failed: ${String(error)}\n` }),
      );
    } else onDrain();
  });
  // The primary is gone: nothing will configure or drain this worker any more.
  process.on('disconnect', () => onDrain());
  send({ type: 'status', ready: proxy.isReady(), problems: [] });
  return proxy;
}
