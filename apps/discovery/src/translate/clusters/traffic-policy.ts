/**
 * DestinationRule traffic policies -> Cluster fields: load balancing,
 * connection pool (circuit breakers, timeouts, HTTP protocol options),
 * outlier detection and client TLS.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/
 */
import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  DestinationRule,
  LoadBalancerSettings,
  OutlierDetection,
  Protocol,
  Subset,
  TrafficPolicy,
} from '@weft/config';
import { FILTER_NAMES, HTTP_PROTOCOL_OPTIONS, UPSTREAM_TLS_CONTEXT } from '../envoy/type-names.ts';
import { type Body, duration, parseDurationMs, typed, wrap } from '../envoy/values.ts';

/** The four policy parts that apply to one cluster after merging. */
export interface EffectivePolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
}

/** Istio's "unlimited" circuit breaker value (max uint32). */
export const UNLIMITED = 4_294_967_295;
/** Istio's default upstream connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

function overlay(base: EffectivePolicy, policy: TrafficPolicy | undefined, port: number): EffectivePolicy {
  if (!policy) return base;
  const merged: EffectivePolicy = { ...base };
  const parts = [policy, policy.portLevelSettings?.find((p) => p.port?.number === port)];
  for (const part of parts) {
    if (!part) continue;
    if (part.loadBalancer) merged.loadBalancer = part.loadBalancer;
    if (part.connectionPool) merged.connectionPool = part.connectionPool;
    if (part.outlierDetection) merged.outlierDetection = part.outlierDetection;
    if (part.tls) merged.tls = part.tls;
  }
  return merged;
}

/**
 * The policy for `port` of a DestinationRule's host, optionally for one
 * subset: the rule's policy, then its port-level settings for `port`, then
 * the subset's policy and its port-level settings (each later part replaces
 * whole fields, as Istio merges them).
 */
export function effectivePolicy(
  rule: DestinationRule | undefined,
  subset: Subset | undefined,
  port: number,
): EffectivePolicy {
  return overlay(overlay({}, rule?.spec.trafficPolicy, port), subset?.trafficPolicy, port);
}

function ms(text: string | undefined, warn: (m: string) => void, field: string): number | undefined {
  if (text === undefined) return undefined;
  const value = parseDurationMs(text);
  if (value === undefined) warn(`${field}: "${text}" is not a duration; ignored`);
  return value;
}

/** True when a consistent-hash policy asks for a ring hash (not maglev). */
function usesMaglev(lb: LoadBalancerSettings | undefined): boolean {
  return lb?.consistentHash?.maglev !== undefined;
}

/**
 * Sets `lbPolicy` (and ring hash / maglev config). Sidecars default to
 * LEAST_REQUEST as Istio does since 1.14; proxyless clients accept only
 * ROUND_ROBIN and RING_HASH, so they default to ROUND_ROBIN and every other
 * simple policy falls back to it with a warning.
 */
export function applyLoadBalancer(
  cluster: Body,
  lb: LoadBalancerSettings | undefined,
  proxyless: boolean,
  warn: (m: string) => void,
  where = String(cluster.name),
): void {
  const hash = lb?.consistentHash;
  if (hash) {
    const minimumRingSize = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize;
    if (usesMaglev(lb) && !proxyless) {
      cluster.lbPolicy = 'MAGLEV';
      if (hash.maglev?.tableSize) cluster.maglevLbConfig = { tableSize: wrap(hash.maglev.tableSize) };
      return;
    }
    cluster.lbPolicy = 'RING_HASH';
    const ring: Body = proxyless ? { hashFunction: 'XX_HASH' } : {};
    if (minimumRingSize) ring.minimumRingSize = wrap(minimumRingSize);
    if (Object.keys(ring).length > 0) cluster.ringHashLbConfig = ring;
    return;
  }
  const simple = lb?.simple ?? 'UNSPECIFIED';
  if (proxyless) {
    if (simple !== 'UNSPECIFIED' && simple !== 'ROUND_ROBIN') {
      warn(`${where}: loadBalancer.simple ${simple} is not supported by proxyless gRPC; using ROUND_ROBIN`);
    }
    cluster.lbPolicy = 'ROUND_ROBIN';
    return;
  }
  switch (simple) {
    case 'ROUND_ROBIN':
      cluster.lbPolicy = 'ROUND_ROBIN';
      return;
    case 'RANDOM':
      cluster.lbPolicy = 'RANDOM';
      return;
    case 'PASSTHROUGH':
      cluster.type = 'ORIGINAL_DST';
      cluster.lbPolicy = 'CLUSTER_PROVIDED';
      delete cluster.edsClusterConfig;
      return;
    default:
      cluster.lbPolicy = 'LEAST_REQUEST';
  }
}

/**
 * Connection pool -> circuit breaker thresholds (Istio's unlimited
 * defaults), connect timeout, TCP keepalive, and HTTP protocol options
 * (max requests per connection, idle timeout, HTTP/2 for HTTP2/GRPC ports or
 * h2UpgradePolicy UPGRADE).
 */
export function applyConnectionPool(
  cluster: Body,
  pool: ConnectionPoolSettings | undefined,
  protocol: Protocol,
  proxyless: boolean,
  warn: (m: string) => void,
  where = String(cluster.name),
): void {
  const name = where;
  const connectTimeout = ms(pool?.tcp?.connectTimeout, warn, `${name}: connectionPool.tcp.connectTimeout`);
  cluster.connectTimeout = duration(connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const thresholds: Body = proxyless
    ? {}
    : {
        maxConnections: wrap(pool?.tcp?.maxConnections ?? UNLIMITED),
        maxPendingRequests: wrap(pool?.http?.http1MaxPendingRequests ?? UNLIMITED),
        maxRequests: wrap(pool?.http?.http2MaxRequests ?? UNLIMITED),
        maxRetries: wrap(pool?.http?.maxRetries ?? UNLIMITED),
        trackRemaining: true,
      };
  if (proxyless && pool?.http?.http2MaxRequests !== undefined)
    thresholds.maxRequests = wrap(pool.http.http2MaxRequests);
  if (Object.keys(thresholds).length > 0) cluster.circuitBreakers = { thresholds: [thresholds] };
  const keepalive = pool?.tcp?.tcpKeepalive;
  if (keepalive && !proxyless) {
    const tcpKeepalive: Body = {};
    if (keepalive.probes !== undefined) tcpKeepalive.keepaliveProbes = wrap(keepalive.probes);
    const time = ms(keepalive.time, warn, `${name}: tcpKeepalive.time`);
    const interval = ms(keepalive.interval, warn, `${name}: tcpKeepalive.interval`);
    if (time !== undefined) tcpKeepalive.keepaliveTime = wrap(Math.round(time / 1000));
    if (interval !== undefined) tcpKeepalive.keepaliveInterval = wrap(Math.round(interval / 1000));
    cluster.upstreamConnectionOptions = { tcpKeepalive };
  }
  if (proxyless || !isHttpProtocol(protocol)) return;
  const http2 = protocol === 'HTTP2' || protocol === 'GRPC' || pool?.http?.h2UpgradePolicy === 'UPGRADE';
  const options: Body = {
    explicitHttpConfig: http2 ? { http2ProtocolOptions: {} } : { httpProtocolOptions: {} },
  };
  const common: Body = {};
  const idle = ms(pool?.http?.idleTimeout, warn, `${name}: connectionPool.http.idleTimeout`);
  if (idle !== undefined) common.idleTimeout = duration(idle);
  if (pool?.http?.maxRequestsPerConnection)
    common.maxRequestsPerConnection = wrap(pool.http.maxRequestsPerConnection);
  if (Object.keys(common).length > 0) options.commonHttpProtocolOptions = common;
  cluster.typedExtensionProtocolOptions = {
    [FILTER_NAMES.httpProtocolOptions]: typed(HTTP_PROTOCOL_OPTIONS, options),
  };
}

/** True for ports Envoy serves with the HTTP connection manager. */
export function isHttpProtocol(protocol: Protocol): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC';
}

/**
 * Outlier detection as Istio maps it: consecutive 5xx and gateway errors
 * enforced at 100%, success-rate ejection off, minHealthPercent as the
 * panic threshold.
 */
export function applyOutlierDetection(
  cluster: Body,
  od: OutlierDetection | undefined,
  warn: (m: string) => void,
  where = String(cluster.name),
): void {
  if (!od) return;
  const name = where;
  const out: Body = { enforcingSuccessRate: wrap(0) };
  const consecutive5xx = od.consecutive5xxErrors ?? od.consecutiveErrors;
  if (consecutive5xx !== undefined) {
    out.consecutive_5xx = wrap(consecutive5xx);
    out.enforcingConsecutive_5xx = wrap(consecutive5xx > 0 ? 100 : 0);
  } else {
    out.enforcingConsecutive_5xx = wrap(0);
  }
  if (od.consecutiveGatewayErrors !== undefined) {
    out.consecutiveGatewayFailure = wrap(od.consecutiveGatewayErrors);
    out.enforcingConsecutiveGatewayFailure = wrap(od.consecutiveGatewayErrors > 0 ? 100 : 0);
  }
  if (od.splitExternalLocalOriginErrors) {
    out.splitExternalLocalOriginErrors = true;
    if (od.consecutiveLocalOriginFailures !== undefined) {
      out.consecutiveLocalOriginFailure = wrap(od.consecutiveLocalOriginFailures);
      out.enforcingConsecutiveLocalOriginFailure = wrap(100);
    }
  }
  const interval = ms(od.interval, warn, `${name}: outlierDetection.interval`);
  if (interval !== undefined) out.interval = duration(interval);
  const base = ms(od.baseEjectionTime, warn, `${name}: outlierDetection.baseEjectionTime`);
  if (base !== undefined) out.baseEjectionTime = duration(base);
  if (od.maxEjectionPercent !== undefined) out.maxEjectionPercent = wrap(od.maxEjectionPercent);
  cluster.outlierDetection = out;
  if (od.minHealthPercent !== undefined) {
    const common = (cluster.commonLbConfig ?? {}) as Body;
    common.healthyPanicThreshold = { value: od.minHealthPercent };
    cluster.commonLbConfig = common;
  }
}

/**
 * Client TLS for SIMPLE and MUTUAL (files or an SDS credentialName).
 * ISTIO_MUTUAL and auto mTLS (mesh mTLS) are security/auto-mtls.ts.
 */
export function applyTls(
  cluster: Body,
  tls: ClientTLSSettings | undefined,
  hostname: string,
  proxyless: boolean,
  warn: (m: string) => void,
  where = String(cluster.name),
): void {
  if (!tls || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return;
  if (proxyless) {
    warn(
      `${where}: tls mode ${tls.mode} needs certificate providers, not supported for proxyless gRPC yet; no TLS`,
    );
    return;
  }
  const common: Body = {};
  if (tls.credentialName) {
    const sds = (name: string) => ({ name, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } });
    if (tls.mode === 'MUTUAL')
      common.tlsCertificateSdsSecretConfigs = [sds(`kubernetes://${tls.credentialName}`)];
    common.validationContextSdsSecretConfig = sds(`kubernetes://${tls.credentialName}-cacert`);
  } else {
    if (tls.mode === 'MUTUAL' && tls.clientCertificate && tls.privateKey) {
      common.tlsCertificates = [
        { certificateChain: { filename: tls.clientCertificate }, privateKey: { filename: tls.privateKey } },
      ];
    } else if (tls.mode === 'MUTUAL') {
      warn(`${where}: tls mode MUTUAL without clientCertificate and privateKey; no client certificate sent`);
    }
    if (!tls.insecureSkipVerify && tls.caCertificates) {
      const validation: Body = { trustedCa: { filename: tls.caCertificates } };
      if (tls.subjectAltNames?.length) {
        validation.matchTypedSubjectAltNames = tls.subjectAltNames.map((san) => ({
          sanType: 'DNS',
          matcher: { exact: san },
        }));
      }
      common.validationContext = validation;
    }
  }
  cluster.transportSocket = {
    name: FILTER_NAMES.tlsTransportSocket,
    typedConfig: typed(UPSTREAM_TLS_CONTEXT, { commonTlsContext: common, sni: tls.sni ?? hostname }),
  };
}
