/**
 * The live clusters: per cluster its compiled config, its host set and
 * balancers, a connection pool per host, circuit-breaker counters and
 * outlier detection. Updated from CDS/EDS (make-before-break: a host's pool
 * is reused while the host stays; removed hosts' pools close gracefully,
 * letting in-flight requests finish).
 */
import type { SocketAddress } from '../capture/original-dst.ts';
import type { ClusterConfig } from '../config/cluster-config.ts';
import type { EndpointsConfig } from '../config/endpoint-config.ts';
import { chooseTransport } from '../config/transport-socket-config.ts';
import { meshTlsConnect, SecureContexts } from '../tls/tls-runtime.ts';
import { Host, HostSet } from './host-set.ts';
import { createUnavailablePool, createUpstreamPool, type UpstreamPool } from './upstream-pool.ts';

/** Counters of one cluster, Envoy's names (`upstream_rq_total`...). */
export interface ClusterStats {
  upstream_rq_total: number;
  upstream_rq_active: number;
  upstream_rq_retry: number;
  upstream_rq_timeout: number;
  upstream_rq_pending_overflow: number;
  upstream_cx_connect_fail: number;
  upstream_rq_2xx: number;
  upstream_rq_3xx: number;
  upstream_rq_4xx: number;
  upstream_rq_5xx: number;
  outlier_detection_ejections_total: number;
}

function emptyStats(): ClusterStats {
  return {
    upstream_rq_total: 0,
    upstream_rq_active: 0,
    upstream_rq_retry: 0,
    upstream_rq_timeout: 0,
    upstream_rq_pending_overflow: 0,
    upstream_cx_connect_fail: 0,
    upstream_rq_2xx: 0,
    upstream_rq_3xx: 0,
    upstream_rq_4xx: 0,
    upstream_rq_5xx: 0,
    outlier_detection_ejections_total: 0,
  };
}

/** One live cluster. Replaced in place on CDS updates so references stay valid. */
export class UpstreamCluster {
  config: ClusterConfig;
  hostSet: HostSet;
  readonly stats: ClusterStats = emptyStats();
  /** Retries in flight (circuit breaker max_retries). */
  activeRetries = 0;
  /** Requests waiting for a connection (circuit breaker max_pending_requests). */
  pendingRequests = 0;
  /** Removed from CDS: no new attempts (in-flight ones finish on the closing pools). */
  closed = false;
  private endpoints: EndpointsConfig | undefined;
  private readonly pools = new Map<string, UpstreamPool>();
  /** ORIGINAL_DST: hosts created on demand by destination (`address:port`). */
  private readonly dynamicHosts = new Map<string, Host>();
  private nextSweepAt = 0;
  private readonly manager: ClusterManager;

  constructor(config: ClusterConfig, manager: ClusterManager) {
    this.config = config;
    this.manager = manager;
    this.endpoints = config.loadAssignment;
    this.hostSet = new HostSet(config, this.endpoints, new Map(), manager.hostSetOptions);
  }

  get name(): string {
    return this.config.name;
  }

  /** Applies a new Cluster config; pools are rebuilt when connection settings change. */
  updateConfig(config: ClusterConfig): void {
    const poolChanged =
      config.http2 !== this.config.http2 ||
      config.connectTimeoutMs !== this.config.connectTimeoutMs ||
      config.circuitBreakers.maxConnections !== this.config.circuitBreakers.maxConnections ||
      JSON.stringify(config.tls) !== JSON.stringify(this.config.tls) ||
      JSON.stringify(config.socketMatches) !== JSON.stringify(this.config.socketMatches);
    this.config = config;
    if (config.type !== 'EDS') this.endpoints = config.loadAssignment;
    if (poolChanged) this.closePools([...this.pools.keys()]);
    this.rebuildHosts();
  }

  /** Applies a ClusterLoadAssignment (EDS). */
  updateEndpoints(endpoints: EndpointsConfig | undefined): void {
    this.endpoints = endpoints;
    this.rebuildHosts();
  }

  private rebuildHosts(): void {
    const previous = new Map(this.hostSet.hosts.map((h) => [h.key, h] as const));
    const matchBefore = new Map(
      this.hostSet.hosts.map((h) => [h.key, JSON.stringify(h.endpoint.socketMatch)]),
    );
    this.hostSet = new HostSet(this.config, this.endpoints, previous, this.manager.hostSetOptions);
    // A host whose transport-socket-match metadata changed gets a new pool.
    const gone = [...this.pools.keys()].filter((key) => {
      const host = this.hostSet.get(key);
      if (!host) return !this.dynamicHosts.has(key);
      return matchBefore.get(key) !== JSON.stringify(host.endpoint.socketMatch);
    });
    this.closePools(gone);
  }

  private closePools(keys: readonly string[]): void {
    for (const key of keys) {
      const pool = this.pools.get(key);
      this.pools.delete(key);
      pool?.close().catch(() => {});
    }
  }

  /** The pool for `host`, created on first use. */
  pool(host: Host): UpstreamPool {
    let pool = this.pools.get(host.key);
    if (!pool) {
      const transport = chooseTransport(this.config.socketMatches, this.config.tls, host.endpoint);
      pool = transport.unavailable
        ? createUnavailablePool(transport.unavailable)
        : createUpstreamPool({
            address: host.address,
            port: host.port,
            http2: this.config.http2,
            connectTimeoutMs: this.config.connectTimeoutMs,
            maxConnections: this.config.circuitBreakers.maxConnections,
            tls: transport.tls,
            tlsConnect: meshTlsConnect(transport.tls, this.manager.secureContexts),
            localAddress: this.config.sourceAddress,
          });
      this.pools.set(host.key, pool);
    }
    return pool;
  }

  /**
   * ORIGINAL_DST: the host for `destination`, created on first use (Envoy
   * adds original-destination hosts on demand). Hosts with no request in
   * flight and unused for the cluster's cleanupInterval are removed with
   * their pools, swept lazily when a host is looked up.
   */
  originalDstHost(destination: SocketAddress): Host {
    const now = this.manager.hostSetOptions.now();
    const key = destination.host.includes(':')
      ? `[${destination.host}]:${destination.port}`
      : `${destination.host}:${destination.port}`;
    if (now >= this.nextSweepAt) this.sweepDynamicHosts(now, key);
    let host = this.dynamicHosts.get(key);
    if (!host) {
      host = new Host({
        key,
        address: destination.host,
        port: destination.port,
        health: 'HEALTHY',
        weight: 1,
        socketMatch: {},
      });
      this.dynamicHosts.set(key, host);
    }
    host.lastUsedAt = now;
    return host;
  }

  /** ORIGINAL_DST hosts currently kept (tests, admin). */
  get originalDstHostCount(): number {
    return this.dynamicHosts.size;
  }

  private sweepDynamicHosts(now: number, keep: string): void {
    const interval = this.config.originalDst?.cleanupIntervalMs ?? 5000;
    this.nextSweepAt = now + interval;
    const gone: string[] = [];
    for (const [key, host] of this.dynamicHosts) {
      if (key === keep || host.active > 0 || now - host.lastUsedAt < interval) continue;
      this.dynamicHosts.delete(key);
      gone.push(key);
    }
    this.closePools(gone);
  }

  /** Open upstream connections across hosts. */
  connectionCount(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.connections;
    return n;
  }

  /**
   * Records one attempt's outcome for outlier detection: consecutive 5xx
   * (and consecutive gateway failures: 502/503/504 or connect failure)
   * eject the host for baseEjectionTime x ejections, within
   * maxEjectionPercent of the hosts.
   */
  recordOutcome(host: Host, status: number | 'gateway-failure' | 'success'): void {
    const od = this.config.outlierDetection;
    host.requestsTotal++;
    const isGateway = status === 'gateway-failure' || status === 502 || status === 503 || status === 504;
    const is5xx = isGateway || (typeof status === 'number' && status >= 500);
    if (is5xx) host.errorsTotal++;
    host.consecutive5xx = is5xx ? host.consecutive5xx + 1 : 0;
    host.consecutiveGatewayFailures = isGateway ? host.consecutiveGatewayFailures + 1 : 0;
    if (!od) return;
    const trip =
      (od.consecutive5xx > 0 && host.consecutive5xx >= od.consecutive5xx) ||
      (od.consecutiveGatewayFailure > 0 && host.consecutiveGatewayFailures >= od.consecutiveGatewayFailure);
    if (!trip) return;
    const now = this.manager.hostSetOptions.now();
    if (host.ejectedUntil > now) return;
    const hosts = this.hostSet.hosts.length;
    const ejected = this.hostSet.ejectedCount(now);
    // Envoy ejects at least one host whatever maxEjectionPercent says.
    if (ejected > 0 && ((ejected + 1) * 100) / hosts > od.maxEjectionPercent) return;
    host.ejections++;
    host.ejectedUntil = now + od.baseEjectionTimeMs * host.ejections;
    host.consecutive5xx = 0;
    host.consecutiveGatewayFailures = 0;
    this.stats.outlier_detection_ejections_total++;
    this.hostSet.rebuild();
  }

  close(): void {
    this.closed = true;
    this.closePools([...this.pools.keys()]);
  }
}

export interface ClusterManagerOptions {
  readonly now?: () => number;
  readonly random?: () => number;
  /** Secure contexts from the identity agent (mesh mTLS toward upstreams). */
  readonly secureContexts?: SecureContexts;
}

/** All live clusters by name. */
export class ClusterManager {
  readonly hostSetOptions: { now: () => number; random: () => number };
  private readonly clusters = new Map<string, UpstreamCluster>();
  private endpoints = new Map<string, EndpointsConfig>();

  readonly secureContexts: SecureContexts;

  constructor(options: ClusterManagerOptions = {}) {
    this.hostSetOptions = { now: options.now ?? Date.now, random: options.random ?? Math.random };
    this.secureContexts = options.secureContexts ?? new SecureContexts(undefined);
  }

  get(name: string): UpstreamCluster | undefined {
    return this.clusters.get(name);
  }

  all(): IterableIterator<UpstreamCluster> {
    return this.clusters.values();
  }

  /**
   * Replaces the full cluster set (CDS is state of the world): adds and
   * updates first, then removes clusters no longer listed.
   */
  setClusters(configs: ReadonlyMap<string, ClusterConfig>): void {
    for (const [name, config] of configs) {
      const existing = this.clusters.get(name);
      if (existing) existing.updateConfig(config);
      else {
        const cluster = new UpstreamCluster(config, this);
        this.clusters.set(name, cluster);
        if (config.type === 'EDS') cluster.updateEndpoints(this.endpoints.get(config.edsServiceName));
      }
    }
    for (const [name, cluster] of this.clusters) {
      if (!configs.has(name)) {
        this.clusters.delete(name);
        cluster.close();
      }
    }
  }

  /** Applies ClusterLoadAssignments by name (EDS); unnamed EDS clusters keep theirs. */
  setEndpoints(assignments: ReadonlyMap<string, EndpointsConfig>): void {
    this.endpoints = new Map(assignments);
    for (const cluster of this.clusters.values()) {
      if (cluster.config.type !== 'EDS') continue;
      const next = assignments.get(cluster.config.edsServiceName);
      cluster.updateEndpoints(next);
    }
  }

  /** Names of ClusterLoadAssignments the EDS clusters need. */
  edsNames(): string[] {
    const names = new Set<string>();
    for (const cluster of this.clusters.values())
      if (cluster.config.type === 'EDS') names.add(cluster.config.edsServiceName);
    return [...names];
  }

  close(): void {
    for (const cluster of this.clusters.values()) cluster.close();
    this.clusters.clear();
  }
}
