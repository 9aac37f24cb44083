/**
 * One running discovery server: config source -> store -> push orchestrator
 * -> snapshot cache -> ADS server on a grpc-js server, plus the HTTP port.
 * `main.ts` runs one; tests and `weft up` embed one in-process.
 *
 * Start-up order: the source's first full read reaches the store, the first
 * push context is built, and only then does the xDS port open, so no proxy
 * ever sees a half-read config. The HTTP port opens last.
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapStatistics } from 'node:v8';
import * as grpc from '@grpc/grpc-js';
import { type ConfigStore, createConfigStore, defaultMeshConfig, type MeshConfig } from '@weft/config';
import { createLogger, createMetrics, type Logger, type MetricsRegistry } from '@weft/telemetry';
import { createAdsServer, createSnapshotCache, TYPE_SHORT_NAMES } from '@weft/xds';
import { createDiscoveryMetrics } from '../http/discovery-metrics.ts';
import { createHttpServer } from '../http/http-server.ts';
import type { ConfigSource } from '../sources/config-source.ts';
import { type ConfigSourceSpec, createConfigSource } from '../sources/create-config-source.ts';
import { buildConfigDump, buildConfigProblems, buildSyncz, findNodeId } from './debug-views.ts';
import { formatHostPort, type HostPort } from './host-port.ts';
import { createNodeCheckInterceptor } from './node-check-interceptor.ts';
import { createProblemLog } from './problem-log.ts';
import { createPushOrchestrator, type TranslatedProxy, type Translator } from './push-orchestrator.ts';

/** What an embedder chooses; `startDiscovery` adds Weft's translator. */
export interface DiscoveryOptions {
  source: ConfigSourceSpec;
  /** xDS (ADS) gRPC address, plaintext; default 127.0.0.1:0 (an ephemeral port). */
  xdsAddr?: HostPort;
  /** HTTP address for /ready, /metrics, /debug/*; default 127.0.0.1:0. */
  httpAddr?: HostPort;
  /** Mesh-wide settings; unset fields take `defaultMeshConfig()`'s values. */
  mesh?: Partial<MeshConfig>;
  /** Quiet period after a config change before pushing, in ms; default 100. */
  debounceMs?: number;
  logger?: Logger;
  /** The process's metrics registry; default a new one (one per process is the rule, so pass it when embedding). */
  metrics?: MetricsRegistry;
}

export interface DiscoveryServerOptions<P extends TranslatedProxy, C extends { readonly version: string }>
  extends DiscoveryOptions {
  /** Translation, through its four functions only. */
  translator: Translator<P, C>;
}

export interface DiscoveryServer {
  /** Bound xDS address, `HOST:PORT`, usable as a gRPC target. */
  readonly xdsAddress: string;
  /** Bound HTTP address, `HOST:PORT`. */
  readonly httpAddress: string;
  /** The config store the sources feed (embedders may apply objects directly). */
  readonly store: ConfigStore;
  /** Stops the sources, ends every ADS stream and closes both ports. Safe to repeat. */
  close(): Promise<void>;
}

export type DiscoveryStartErrorCode =
  | 'SOURCE_UNAVAILABLE'
  | 'SOURCE_START_FAILED'
  | 'XDS_LISTEN_FAILED'
  | 'HTTP_LISTEN_FAILED';

/** Start-up failed; nothing is left running. */
export class DiscoveryStartError extends Error {
  readonly code: DiscoveryStartErrorCode;
  constructor(code: DiscoveryStartErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'DiscoveryStartError';
    this.code = code;
  }
}

function bindGrpc(server: grpc.Server, address: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(formatHostPort(address), grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

function listenHttp(server: HttpServer, address: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function shutdownGrpc(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    // Streams were already ended by the ADS server; give unary calls a moment, then force.
    const timer = setTimeout(() => server.forceShutdown(), 1000);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Starts a discovery server. Resolves once both ports listen and the first
 * push context is built; rejects with DiscoveryStartError (nothing left
 * running) when the source cannot start or a port cannot be bound.
 */
export async function startDiscoveryServer<P extends TranslatedProxy, C extends { readonly version: string }>(
  options: DiscoveryServerOptions<P, C>,
): Promise<DiscoveryServer> {
  const log = options.logger ?? createLogger({ name: 'weft-discovery' });
  const metricsRegistry = options.metrics ?? createMetrics({ serviceName: 'weft-discovery' });
  const mesh = defaultMeshConfig(options.mesh);
  const store = createConfigStore();
  const created = createConfigSource(options.source, {
    store,
    mesh,
    logger: log.child({ component: 'source' }),
    onProblems: createProblemLog(log.child({ component: 'source' })),
  });
  /** Shuts the metrics registry down if this server created it. */
  const releaseMetrics = async (): Promise<void> => {
    if (options.metrics === undefined) await metricsRegistry.shutdown();
  };
  if (!created.ok) {
    await releaseMetrics();
    throw new DiscoveryStartError('SOURCE_UNAVAILABLE', created.message);
  }
  const sources: ConfigSource[] = [created.source];

  const cache = createSnapshotCache({
    onWatcherError: (error) => log.error('snapshot watcher failed', { error }),
  });
  const metrics = createDiscoveryMetrics(metricsRegistry, {
    connectedProxies: () => orchestrator.proxies().length,
    configProblems: () => sources.reduce((n, s) => n + s.problems().length, 0),
  });
  const orchestrator = createPushOrchestrator({
    store,
    cache,
    translator: options.translator,
    mesh,
    debounceMs: options.debounceMs ?? 100,
    logger: log.child({ component: 'push' }),
    onPush: (report) => metrics.recordPushDuration(report.durationSeconds),
    onSnapshotSet: (_nodeId, changed) => {
      for (const typeUrl of changed) metrics.recordPushes(typeUrl, 1);
    },
  });

  try {
    await Promise.all(sources.map((s) => s.start()));
  } catch (cause) {
    orchestrator.close();
    await Promise.allSettled(sources.map((s) => s.stop()));
    await releaseMetrics();
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DiscoveryStartError('SOURCE_START_FAILED', `config source failed to start: ${reason}`, cause);
  }
  orchestrator.pushNow();

  const xdsLog = log.child({ component: 'xds' });
  const ads = createAdsServer({
    cache,
    logger: xdsLog,
    onStreamOpen: (info) => {
      const result = orchestrator.connect({
        id: info.nodeId,
        metadata: info.node.metadata,
        ...(info.node.locality === undefined ? {} : { locality: info.node.locality }),
      });
      // The interceptor refused nodes that do not parse; this only happens if parsing is not deterministic.
      if (!result.ok)
        xdsLog.error('stream of an unparsable node reached the ADS server', { nodeId: info.nodeId });
    },
    onStreamClose: (info) => {
      orchestrator.disconnect(info.nodeId);
    },
    onNack: (info) => {
      metrics.recordNack(info.typeUrl);
      xdsLog.warn('proxy rejected config (NACK)', {
        nodeId: info.nodeId,
        type: TYPE_SHORT_NAMES[info.typeUrl],
        version: info.version,
        nonce: info.nonce,
        error: info.errorDetail.message,
      });
    },
  });
  const grpcServer = new grpc.Server({
    interceptors: [
      createNodeCheckInterceptor({
        check: (node) => {
          const parsed = options.translator.parseProxy(node);
          return parsed.ok ? { ok: true } : { ok: false, reason: parsed.problems.join('; ') };
        },
        onRefused: (info) => xdsLog.warn('refused ADS stream: bad node', { ...info }),
      }),
    ],
  });
  ads.addToServer(grpcServer);

  const httpServer = createHttpServer(
    {
      ready: () => {
        const reasons = sources.filter((s) => !s.ready).map((s) => `config source ${s.name} has not loaded`);
        if (orchestrator.pushVersion === undefined) reasons.push('no push context yet');
        return reasons.length === 0 ? { ready: true } : { ready: false, reasons };
      },
      handleMetrics: (req, res) => metricsRegistry.handleScrape(req, res),
      syncz: () => buildSyncz(orchestrator.proxies(), ads.syncStatus()),
      configDump: (proxyId) => {
        const nodeId = findNodeId(
          orchestrator.proxies().map((p) => p.nodeId),
          proxyId,
        );
        const snapshot = nodeId === undefined ? undefined : cache.getSnapshot(nodeId);
        if (nodeId === undefined || snapshot === undefined) {
          return { ok: false, message: `no connected proxy ${JSON.stringify(proxyId)}` };
        }
        const pushVersion = orchestrator.proxies().find((p) => p.nodeId === nodeId)?.pushVersion;
        return { ok: true, dump: buildConfigDump(nodeId, pushVersion, snapshot) };
      },
      configProblems: () => buildConfigProblems(sources),
      memory: () => ({
        ...process.memoryUsage(),
        heapLimit: getHeapStatistics().heap_size_limit,
        xdsWrites: ads.writeStatus(),
      }),
    },
    log.child({ component: 'http' }),
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      orchestrator.close();
      ads.close();
      await Promise.allSettled([
        shutdownGrpc(grpcServer),
        closeHttp(httpServer),
        ...sources.map((s) => s.stop()),
      ]);
      await releaseMetrics();
    })();
    return closing;
  };

  const xdsAddr = options.xdsAddr ?? { host: '127.0.0.1', port: 0 };
  const httpAddr = options.httpAddr ?? { host: '127.0.0.1', port: 0 };
  /** Binds one port; on failure closes everything started so far and throws a DiscoveryStartError. */
  const listen = async (
    code: DiscoveryStartErrorCode,
    what: string,
    address: HostPort,
    bind: () => Promise<number>,
  ): Promise<number> => {
    try {
      return await bind();
    } catch (cause) {
      await close();
      throw new DiscoveryStartError(code, `cannot listen for ${what} on ${formatHostPort(address)}`, cause);
    }
  };
  const xdsPort = await listen('XDS_LISTEN_FAILED', 'xDS', xdsAddr, () => bindGrpc(grpcServer, xdsAddr));
  const httpPort = await listen('HTTP_LISTEN_FAILED', 'HTTP', httpAddr, () =>
    listenHttp(httpServer, httpAddr),
  );
  return {
    xdsAddress: formatHostPort({ host: xdsAddr.host, port: xdsPort }),
    httpAddress: formatHostPort({ host: httpAddr.host, port: httpPort }),
    store,
    close,
  };
}
