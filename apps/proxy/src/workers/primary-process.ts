/**
 * The primary of a multi-worker proxy (`--concurrency N`): holds the one ADS
 * connection (so every NACK decision is made once, consistently), validates
 * and keeps the accepted config, serves admin, and forks N workers
 * (node:cluster) that bind the listeners with SO_REUSEPORT and serve
 * traffic. Each accepted type's full set is forwarded to every worker, which
 * compiles and applies it; a worker that dies is forked again (backoff from
 * 100 ms to 5 s) and gets the current config replayed in CDS, EDS, LDS, RDS
 * order. Admin `/stats`, `/clusters`, `/stats/prometheus` sum the workers'
 * views; `/workers` lists them; `/ready` needs every worker ready.
 */
import cluster, { type Worker } from 'node:cluster';
import { createLogger } from '@weft/telemetry';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL } from '@weft/xds';
import { type ProxyOptions, startProxy, type WeftProxy } from '../proxy.ts';
import type { ProxyTypeUrl } from '../xds/config-state.ts';
import { mergePrometheus, sumClusters, sumStats } from './aggregate-admin.ts';
import { type AdminView, isFromWorker, type ToWorker } from './worker-messages.ts';

const APPLY_ORDER: readonly ProxyTypeUrl[] = [
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
];
const QUERY_TIMEOUT_MS = 2000;

interface WorkerSlot {
  readonly index: number;
  worker: Worker | undefined;
  ready: boolean;
  restarts: number;
  lastProblems: readonly string[];
}

/** Starts the primary and its workers; the returned proxy drains/closes them all. */
export async function startPrimary(options: ProxyOptions, concurrency: number): Promise<WeftProxy> {
  const logger = options.logger ?? createLogger({ name: 'weft-proxy' });
  const slots: WorkerSlot[] = Array.from({ length: concurrency }, (_, index) => ({
    index,
    worker: undefined,
    ready: false,
    restarts: 0,
    lastProblems: [],
  }));
  const pending = new Map<number, (text: string) => void>();
  let nextQuery = 1;
  let stopping = false;
  let proxy: WeftProxy | undefined;

  const configMessage = (typeUrl: ProxyTypeUrl): ToWorker | undefined => {
    const resources = proxy?.config.resources.get(typeUrl);
    if (!proxy || !resources) return undefined;
    return {
      type: 'config',
      typeUrl,
      version: proxy.config.versions.get(typeUrl) ?? '',
      resources: [...resources.values()].map((r) => ({
        name: r.name,
        body: r.body as Record<string, unknown>,
      })),
    };
  };
  const sendTo = (slot: WorkerSlot, message: ToWorker): void => {
    if (slot.worker?.isConnected()) slot.worker.send(message);
  };

  const fork = (slot: WorkerSlot): void => {
    const worker = cluster.fork();
    slot.worker = worker;
    slot.ready = false;
    worker.on('message', (message: unknown) => {
      if (!isFromWorker(message)) return;
      if (message.type === 'status') {
        slot.ready = message.ready;
        slot.lastProblems = message.problems;
        if (message.problems.length > 0)
          logger.error('worker rejected config the primary accepted', {
            worker: slot.index,
            problems: message.problems,
          });
      } else pending.get(message.id)?.(message.text);
    });
    worker.on('online', () => {
      for (const typeUrl of APPLY_ORDER) {
        const message = configMessage(typeUrl);
        if (message) sendTo(slot, message);
      }
    });
    worker.on('exit', (code, signal) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      slot.ready = false;
      if (stopping) return;
      const delayMs = Math.min(5000, 100 * 2 ** Math.min(slot.restarts, 6));
      slot.restarts++;
      logger.warn('worker exited; restarting', { worker: slot.index, code, signal, delayMs });
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, delayMs).unref();
    });
  };

  const query = (slot: WorkerSlot, view: AdminView): Promise<string> =>
    new Promise((resolve, reject) => {
      if (!slot.worker?.isConnected()) return reject(new Error(`worker ${slot.index} is not running`));
      const id = nextQuery++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`worker ${slot.index} did not answer in ${QUERY_TIMEOUT_MS} ms`));
      }, QUERY_TIMEOUT_MS);
      pending.set(id, (text) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(text);
      });
      sendTo(slot, { type: 'query', id, view });
    });
  const live = (): WorkerSlot[] => slots.filter((slot) => slot.worker?.isConnected());
  const gather = async (view: AdminView): Promise<string[]> =>
    Promise.all(live().map((slot) => query(slot, view)));

  proxy = await startProxy({
    ...options,
    bindListeners: false,
    onApplied: (typeUrl) => {
      const message = configMessage(typeUrl);
      if (message) for (const slot of slots) sendTo(slot, message);
    },
    workerAdmin: {
      stats: async () => sumStats(await gather('stats')),
      clusters: async () => sumClusters(await gather('clusters')),
      prometheus: async () => mergePrometheus(await gather('prometheus')),
      ready: () => slots.every((slot) => slot.ready),
      describe: async () =>
        Promise.all(
          slots.map(async (slot) => {
            const stats = slot.worker?.isConnected() ? await query(slot, 'stats').catch(() => '') : '';
            const requests = [...stats.matchAll(/\.upstream_rq_total: (\d+)/g)].reduce(
              (n, m) => n + Number(m[1]),
              0,
            );
            return {
              worker: slot.index,
              pid: slot.worker?.process.pid ?? null,
              ready: slot.ready,
              restarts: slot.restarts,
              upstreamRequests: requests,
              problems: slot.lastProblems,
            };
          }),
        ),
    },
  });
  cluster.setupPrimary({ serialization: 'advanced' });
  for (const slot of slots) fork(slot);

  const primary = proxy;
  return {
    ...primary,
    isReady: () => primary.isReady() && slots.every((slot) => slot.ready),
    drain: () => {
      stopping = true;
      primary.drain();
      for (const slot of slots) sendTo(slot, { type: 'drain' });
    },
    close: async () => {
      stopping = true;
      await primary.close();
      for (const slot of slots) slot.worker?.kill('SIGTERM');
    },
  };
}
