/**
 * Assembles one weft-proxy: config state, cluster manager, listener
 * manager, telemetry, admin server, and the xDS driver (or a static set of
 * resources, for tests and hand-run local setups). `startProxy` is what
 * main.ts runs and what the e2e tests start in process.
 */
import type http from 'node:http';
import { createLogger, createMetrics, type Logger, type MetricsRegistry } from '@weft/telemetry';
import {
  type AdsClient,
  type AdsClientNode,
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
  resourceToJson,
  type TypeUrl,
} from '@weft/xds';
import {
  type AdminHandlers,
  serverAddress,
  startAdminServer,
  startStatusServer,
  type WorkerAdmin,
} from './admin/admin-server.ts';
import type { SecretProvider } from './agent/secret-store.ts';
import {
  createOriginalDstReader,
  loadSockoptBinding,
  type OriginalDstReader,
} from './capture/original-dst.ts';
import type { ProxyServices } from './http/http-connection-manager.ts';
import { ListenerManager } from './listeners/listener-manager.ts';
import { ListenerWarmer, rdsNames } from './listeners/listener-warming.ts';
import { sdsWithoutAgentProblems } from './security/sds-requirements.ts';
import type { TcpProxyServices } from './tcp/tcp-proxy.ts';
import { type AccessLogRecord, ProxyTelemetry } from './telemetry/proxy-telemetry.ts';
import { createSpanExport } from './telemetry/span-export.ts';
import { localWorkload } from './telemetry/workload-identity.ts';
import { SecureContexts } from './tls/tls-runtime.ts';
import { ClusterManager } from './upstream/cluster-manager.ts';
import { ConfigState, isProxyTypeUrl, type ProxyTypeUrl } from './xds/config-state.ts';
import { RouteRetention } from './xds/route-retention.ts';
import { startXdsDriver } from './xds/xds-driver.ts';

export interface ProxyOptions {
  /** `host:port` of the ADS server; omit to serve `staticResources` only. */
  readonly discoveryAddress?: string;
  readonly adsMode?: 'sotw' | 'delta';
  readonly node: AdsClientNode;
  /** Resources applied at start as if received over xDS (validated the same way). */
  readonly staticResources?: readonly Resource[];
  /** Admin `host:port`; default 127.0.0.1:15000; null disables the admin server. */
  readonly admin?: { readonly host: string; readonly port: number } | null;
  /**
   * Status servers (Istio's 15090 Prometheus and 15021 readiness ports): each
   * serves only GET `/stats/prometheus` and `/healthz/ready`. Default none.
   */
  readonly status?: readonly { readonly host: string; readonly port: number }[];
  /** Local mode: bind listeners (by name) elsewhere than their LDS address. */
  readonly listenerAddresses?: ReadonlyMap<string, { host: string; port: number }>;
  readonly drainTimeMs?: number;
  readonly logger?: Logger;
  readonly metrics?: MetricsRegistry;
  readonly accessLog?: (record: AccessLogRecord) => void;
  /** This workload's SPIFFE ID when it has an identity (telemetry's own principal label). */
  readonly identityPrincipal?: string;
  /** Share of new traces sampled, 0..1 (default 1). */
  readonly traceSampleRate?: number;
  /** Span export (OTLP/HTTP endpoint, console); no spans are built without it. */
  readonly tracing?: { readonly otlpEndpoint?: string; readonly console?: boolean };
  readonly now?: () => number;
  readonly random?: () => number;
  /**
   * Reads captured connections' original destinations; default:
   * SO_ORIGINAL_DST through koffi, falling back to the local address.
   */
  readonly originalDestination?: OriginalDstReader;
  /** Called when `/quitquitquit` is posted (main.ts drains and exits). */
  readonly onQuit?: () => void;
  /** Lets `/logging` read and change the log level (main.ts passes its level switch). */
  readonly logLevel?: { get(): string; set(level: string): boolean };
  /** Bind listeners with SO_REUSEPORT (worker processes). */
  readonly reusePort?: boolean;
  /** The identity agent's secrets (SDS default/ROOTCA); without them mesh TLS contexts are NACKed. */
  readonly secrets?: SecretProvider;
  /** False in a multi-worker primary: it validates and serves admin, workers bind the listeners. */
  readonly bindListeners?: boolean;
  /** Called after a type's accepted set was applied (the primary forwards it to workers). */
  readonly onApplied?: (typeUrl: ProxyTypeUrl) => void;
  /** Admin `/stats`, `/clusters` and `/stats/prometheus` from the workers instead of this process. */
  readonly workerAdmin?: WorkerAdmin;
}

export interface WeftProxy {
  /** The admin server's bound address, if enabled. */
  readonly adminAddress: { host: string; port: number } | undefined;
  /** The status servers' bound addresses, in the order of `options.status`. */
  readonly statusAddresses: readonly { host: string; port: number }[];
  /** A listener's bound address (port 0 resolved), once bound. */
  listenerAddress(name: string): { host: string; port: number } | undefined;
  readonly clusters: ClusterManager;
  readonly config: ConfigState;
  /** The metrics registry (`/stats/prometheus`). */
  readonly metrics: MetricsRegistry;
  /** The ADS client, when driven by xDS. */
  readonly ads: AdsClient | undefined;
  /** True once CDS and LDS have each been applied and no listener is warming. */
  isReady(): boolean;
  /** Envoy-style config dump of the accepted resources. */
  configDump(): unknown;
  /**
   * Validates and applies a type's full resource set as if it came over xDS
   * (workers get their config this way). Returns the problems; on any, nothing changes.
   */
  applyResources(typeUrl: ProxyTypeUrl, resources: readonly Resource[], version: string): string[];
  /** Resolves once the listener changes started so far are bound (or failed to bind). */
  listenersSettled(): Promise<void>;
  /** Stops accepting and drains open connections (SIGTERM). */
  drain(): void;
  /** Closes everything (listeners, connections, pools, ADS, admin). Safe to repeat. */
  close(): Promise<void>;
}

const DUMP_NAMES: Record<ProxyTypeUrl, string> = {
  [CLUSTER_TYPE_URL]: 'ClustersConfigDump',
  [ENDPOINT_TYPE_URL]: 'EndpointsConfigDump',
  [LISTENER_TYPE_URL]: 'ListenersConfigDump',
  [ROUTE_TYPE_URL]: 'RoutesConfigDump',
};

/** Starts a proxy. Resolves once the admin server (if any) listens; xDS config arrives asynchronously. */
export async function startProxy(options: ProxyOptions): Promise<WeftProxy> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? createLogger({ name: 'weft-proxy' });
  const metrics = options.metrics ?? createMetrics({ serviceName: 'weft-proxy' });
  const local = localWorkload(options.node.metadata ?? {}, options.identityPrincipal);
  const spanExport =
    options.tracing &&
    createSpanExport({
      ...options.tracing,
      serviceName: local.app === 'unknown' ? local.workload : local.app,
    });
  const telemetry = new ProxyTelemetry(metrics, now, options.accessLog, {
    local,
    random,
    ...(options.traceSampleRate === undefined ? {} : { traceSampleRate: options.traceSampleRate }),
    ...(spanExport ? { spanExport } : {}),
  });
  const state = new ConfigState(options.secrets ? undefined : sdsWithoutAgentProblems);
  const secureContexts = new SecureContexts(options.secrets);
  const clusters = new ClusterManager({ now, random, secureContexts });
  const retention = new RouteRetention(now, options.drainTimeMs ?? 5000);
  const services: ProxyServices & TcpProxyServices = {
    clusters,
    routes: (name) => state.routes.get(name) ?? retention.get(name),
    now,
    random,
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (timer) => clearTimeout(timer),
    onStreamComplete: (stream) => telemetry.onStreamComplete(stream),
    onStreamStart: (stream) => telemetry.onStreamStart(stream),
    onSessionComplete: (record) => telemetry.onTcpSessionComplete(record),
  };
  let originalDestination = options.originalDestination;
  if (!originalDestination) {
    const sockopt = await loadSockoptBinding();
    if (!sockopt.ok) logger.info('original destinations are local addresses', { reason: sockopt.reason });
    originalDestination = createOriginalDstReader(sockopt.ok ? sockopt.binding : undefined);
  }
  const listeners = new ListenerManager({
    services,
    originalDestination,
    ...(options.listenerAddresses ? { addressOverrides: options.listenerAddresses } : {}),
    ...(options.drainTimeMs !== undefined ? { drainTimeMs: options.drainTimeMs } : {}),
    ...(options.reusePort ? { reusePort: true } : {}),
    secureContexts,
    onEvent: (event) => {
      if (event.type === 'bind-failed')
        logger.error('listener bind failed', { listener: event.listener, detail: event.detail });
      else if (event.type === 'tls-failed')
        logger.warn('downstream TLS refused', { listener: event.listener, detail: event.detail });
      else logger.info(`listener ${event.type}`, { listener: event.listener, detail: event.detail });
    },
  });
  const applied = new Set<TypeUrl>();
  const warmer = new ListenerWarmer(now);
  const warnedOverrides = new Set<string>();
  let warmTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** Binds/updates the warm listeners; re-checks while some are still warming. */
  const reconcileListeners = (): void => {
    if (closed) return;
    const active = warmer.select(state.listeners, (name) => state.routes.has(name));
    retention.onServing(new Set([...active.values()].flatMap(rdsNames)));
    if (options.bindListeners === false) return;
    listenerUpdate = listenerUpdate
      .then(() => listeners.setListeners(active))
      .catch((error: unknown) => logger.error('listener update failed', { error }));
    for (const name of options.listenerAddresses?.keys() ?? []) {
      if (state.listeners.has(name) || warnedOverrides.has(name)) continue;
      warnedOverrides.add(name);
      logger.warn('--listener names a listener the control plane did not send', {
        listener: name,
        known: [...state.listeners.keys()],
      });
    }
    const warming = warmer.warming(state.listeners);
    if (warming.length > 0)
      logger.info('listeners warming until their routes arrive', { listeners: warming });
    if (warmTimer) clearTimeout(warmTimer);
    warmTimer = warming.length > 0 ? setTimeout(reconcileListeners, 1000) : undefined;
    warmTimer?.unref();
  };
  let listenerUpdate: Promise<void> = Promise.resolve();
  const apply = (typeUrl: TypeUrl): void => {
    applied.add(typeUrl);
    if (typeUrl === CLUSTER_TYPE_URL) {
      clusters.setClusters(state.clusters);
      clusters.setEndpoints(state.endpoints);
    } else if (typeUrl === ENDPOINT_TYPE_URL) {
      clusters.setEndpoints(state.endpoints);
    }
    if (typeUrl === ROUTE_TYPE_URL) retention.onRoutesUpdated(state.routes);
    if (typeUrl === LISTENER_TYPE_URL || typeUrl === ROUTE_TYPE_URL) reconcileListeners();
    logger.debug('config applied', { typeUrl, version: state.versions.get(typeUrl as ProxyTypeUrl) });
    if (isProxyTypeUrl(typeUrl)) options.onApplied?.(typeUrl);
  };

  if (options.staticResources) applyStatic(options.staticResources, state, apply, logger);

  let ads: AdsClient | undefined;
  if (options.discoveryAddress) {
    ads = startXdsDriver({
      address: options.discoveryAddress,
      node: options.node,
      ...(options.adsMode ? { mode: options.adsMode } : {}),
      state,
      apply,
      logger,
      random,
    });
  }

  const configDump = (): unknown => ({
    configs: (Object.keys(DUMP_NAMES) as ProxyTypeUrl[]).map((typeUrl) => ({
      '@type': `type.googleapis.com/envoy.admin.v3.${DUMP_NAMES[typeUrl]}`,
      version_info: state.versions.get(typeUrl) ?? '',
      resources: [...(state.resources.get(typeUrl)?.values() ?? [])].map((r) => safeJson(r)),
    })),
  });
  const isReady = (): boolean =>
    applied.has(CLUSTER_TYPE_URL) &&
    applied.has(LISTENER_TYPE_URL) &&
    warmer.warming(state.listeners).length === 0;

  const adminHandlers: AdminHandlers = {
    clusters,
    metrics,
    ready: isReady,
    configDump,
    drainListeners: () => listeners.drainAll(),
    quit: () => options.onQuit?.(),
    now,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(options.workerAdmin ? { workers: options.workerAdmin } : {}),
  };
  let admin: http.Server | undefined;
  const adminOption = options.admin === undefined ? { host: '127.0.0.1', port: 15000 } : options.admin;
  if (adminOption) admin = await startAdminServer(adminOption.host, adminOption.port, adminHandlers);
  const statusServers: http.Server[] = [];
  for (const address of options.status ?? []) {
    statusServers.push(await startStatusServer(address.host, address.port, adminHandlers));
  }

  return {
    adminAddress: admin ? serverAddress(admin) : undefined,
    statusAddresses: statusServers.map(serverAddress),
    listenerAddress: (name) => listeners.address(name),
    clusters,
    config: state,
    metrics,
    ads,
    isReady,
    configDump,
    applyResources: (typeUrl, resources, version) => applyType(typeUrl, resources, version, state, apply),
    listenersSettled: () => listenerUpdate,
    drain: () => listeners.drainAll(),
    close: async () => {
      if (closed) return;
      closed = true;
      if (warmTimer) clearTimeout(warmTimer);
      ads?.close();
      await listenerUpdate.catch(() => {});
      listeners.close();
      clusters.close();
      await telemetry.close().catch((error: unknown) => logger.warn('span export flush failed', { error }));
      for (const server of admin ? [admin, ...statusServers] : statusServers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

function safeJson(resource: Resource): unknown {
  try {
    return resourceToJson(resource);
  } catch {
    return { '@type': resource.typeUrl, ...resource.body };
  }
}

/** Validates and applies static resources in make-before-break order (CDS, EDS, LDS, RDS). */
function applyStatic(
  resources: readonly Resource[],
  state: ConfigState,
  apply: (t: TypeUrl) => void,
  logger: Logger,
): void {
  for (const typeUrl of [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL] as const) {
    const ofType = resources.filter((r) => r.typeUrl === typeUrl);
    const problems = applyType(typeUrl, ofType, 'static', state, apply);
    if (problems.length > 0) logger.error('static config rejected', { typeUrl, problems });
  }
}

/** Validates one type's full set; applies it when every resource compiles. */
function applyType(
  typeUrl: ProxyTypeUrl,
  resources: readonly Resource[],
  version: string,
  state: ConfigState,
  apply: (t: TypeUrl) => void,
): string[] {
  const problems = state.validate(typeUrl, resources);
  if (problems.length > 0) return problems;
  state.accept(typeUrl, new Map(resources.map((r) => [r.name, r])), version);
  apply(typeUrl);
  return [];
}
