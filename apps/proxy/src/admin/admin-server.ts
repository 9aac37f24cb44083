/**
 * The admin endpoint (loopback by default, Envoy's paths): `/ready`,
 * `/config_dump`, `/clusters`, `/stats`, `/stats/prometheus`,
 * `/logging` (GET shows, POST `?level=` sets), `/drain_listeners` (POST),
 * `/quitquitquit` (POST). Read-only endpoints
 * answer GET; the mutating ones require POST as Envoy does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from '@weft/telemetry';
import type { ClusterManager } from '../upstream/cluster-manager.ts';

/** Admin views gathered from worker processes (multi-worker primary). */
export interface WorkerAdmin {
  stats(): Promise<string>;
  clusters(): Promise<string>;
  prometheus(): Promise<string>;
  /** `/workers`: one JSON object per worker (pid, ready, requests). */
  describe(): Promise<unknown>;
  /** True when every worker has applied the config and is serving. */
  ready(): boolean;
}

export interface AdminHandlers {
  readonly clusters: ClusterManager;
  readonly metrics: MetricsRegistry;
  /** True once the first CDS and LDS were applied. */
  ready(): boolean;
  /** Envoy-style config dump (JSON-serialisable). */
  configDump(): unknown;
  drainListeners(): void;
  /** Asks the process to drain and exit. */
  quit(): void;
  /** Current log level and its setter (`/logging`); absent when the embedder owns logging. */
  readonly logLevel?: { get(): string; set(level: string): boolean };
  now(): number;
  /** When set, `/stats`, `/clusters` and `/stats/prometheus` aggregate the workers, and `/workers` lists them. */
  readonly workers?: WorkerAdmin;
}

/** Renders `/clusters` in Envoy's text format (`cluster::host::field::value`). */
export function renderClusters(clusters: ClusterManager, now: number): string {
  const lines: string[] = [];
  for (const cluster of clusters.all()) {
    const name = cluster.name;
    const b = cluster.config.circuitBreakers;
    lines.push(`${name}::default_priority::max_connections::${b.maxConnections}`);
    lines.push(`${name}::default_priority::max_pending_requests::${b.maxPendingRequests}`);
    lines.push(`${name}::default_priority::max_requests::${b.maxRequests}`);
    lines.push(`${name}::default_priority::max_retries::${b.maxRetries}`);
    for (const host of cluster.hostSet.hosts) {
      const prefix = `${name}::${host.key}`;
      const flags: string[] = [];
      if (host.endpoint.health !== 'HEALTHY' && host.endpoint.health !== 'UNKNOWN')
        flags.push('/failed_eds_health');
      if (host.ejectedUntil > now) flags.push('/failed_outlier_check');
      lines.push(`${prefix}::rq_active::${host.active}`);
      lines.push(`${prefix}::rq_total::${host.requestsTotal}`);
      lines.push(`${prefix}::rq_error::${host.errorsTotal}`);
      lines.push(`${prefix}::weight::${host.weight}`);
      lines.push(`${prefix}::health_flags::${flags.length === 0 ? 'healthy' : flags.join('')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Renders `/stats`: `cluster.<name>.<counter>: <value>` lines. */
export function renderStats(clusters: ClusterManager): string {
  const lines: string[] = [];
  for (const cluster of clusters.all()) {
    for (const [key, value] of Object.entries(cluster.stats))
      lines.push(`cluster.${cluster.name}.${key}: ${value}`);
    lines.push(`cluster.${cluster.name}.upstream_cx_active: ${cluster.connectionCount()}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Starts the admin server on `host:port` (port 0 = ephemeral); resolves with it listening. */
export function startAdminServer(host: string, port: number, handlers: AdminHandlers): Promise<http.Server> {
  return listen(http.createServer(createAdminHandler(handlers)), host, port);
}

/**
 * The paths a status server (Istio's 15090 and 15021, reachable from outside
 * the pod) answers: Prometheus stats and readiness, nothing that reveals
 * config or changes state. Each path maps to the admin path it serves.
 */
const STATUS_PATHS: ReadonlyMap<string, string> = new Map([
  ['/stats/prometheus', '/stats/prometheus'],
  ['/healthz/ready', '/ready'],
]);

/**
 * Starts a status server: GET `/stats/prometheus` (Istio's 15090) and
 * `/healthz/ready` (Istio's 15021 readiness probe: 200 once config is
 * applied, else 503), served by the same handlers as admin. Any other path
 * or method gets 404/405, so it is safe to bind beyond loopback.
 */
export function startStatusServer(host: string, port: number, handlers: AdminHandlers): Promise<http.Server> {
  const admin = createAdminHandler(handlers);
  const server = http.createServer((req, res) => {
    const target = STATUS_PATHS.get((req.url ?? '/').split('?')[0]!);
    if (target === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('use GET\n');
      return;
    }
    req.url = target;
    admin(req, res);
  });
  return listen(server, host, port);
}

function createAdminHandler(handlers: AdminHandlers): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const post = req.method === 'POST';
    const workers = handlers.workers;
    if (
      workers &&
      (path === '/stats' || path === '/clusters' || path === '/stats/prometheus' || path === '/workers')
    ) {
      const views = {
        '/stats': () => workers.stats(),
        '/clusters': () => workers.clusters(),
        '/stats/prometheus': () => workers.prometheus(),
        '/workers': async () => `${JSON.stringify(await workers.describe(), null, 2)}\n`,
      };
      views[path]().then(
        (text) => send(200, text, path === '/workers' ? 'application/json' : 'text/plain'),
        (error: unknown) => send(503, `workers did not answer: ${(error as Error).message}\n`),
      );
      return;
    }
    switch (path) {
      case '/ready': {
        const ready = handlers.ready() && (workers?.ready() ?? true);
        send(ready ? 200 : 503, ready ? 'LIVE\n' : 'PRE_INITIALIZING\n');
        return;
      }
      case '/config_dump':
        send(200, `${JSON.stringify(handlers.configDump(), null, 2)}\n`, 'application/json');
        return;
      case '/clusters':
        send(200, renderClusters(handlers.clusters, handlers.now()));
        return;
      case '/stats':
        send(200, renderStats(handlers.clusters));
        return;
      case '/stats/prometheus':
        handlers.metrics.handleScrape(req, res);
        return;
      case '/drain_listeners':
        if (!post) return send(405, 'use POST\n');
        handlers.drainListeners();
        send(200, 'OK\n');
        return;
      case '/logging': {
        const control = handlers.logLevel;
        if (!control) return send(404, 'log level is managed by the embedding process\n');
        const level = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('level');
        if (post && level !== null) {
          if (!control.set(level))
            return send(400, `unknown level ${JSON.stringify(level)}; use debug, info, warn or error\n`);
        } else if (level !== null) return send(405, 'use POST to change the level\n');
        send(200, `active level: ${control.get()}\n`);
        return;
      }
      case '/quitquitquit':
        if (!post) return send(405, 'use POST\n');
        send(200, 'OK\n');
        handlers.quit();
        return;
      default:
        send(404, 'not found\n');
    }
  };
}

async function listen(server: http.Server, host: string, port: number): Promise<http.Server> {
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The bound address of a started server. */
export function serverAddress(server: http.Server): { host: string; port: number } {
  const addr = server.address() as AddressInfo;
  return { host: addr.address, port: addr.port };
}
