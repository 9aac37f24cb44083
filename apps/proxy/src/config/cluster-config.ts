/**
 * Cluster -> immutable runtime cluster settings, with Envoy's defaults
 * applied. See envoy/config/cluster/v3/cluster.proto,
 * circuit_breaker.proto, outlier_detection.proto and
 * envoy/extensions/upstreams/http/v3/http_protocol_options.proto.
 */
import { isIP } from 'node:net';
import { compileClusterLoadAssignment, type EndpointsConfig } from './endpoint-config.ts';
import {
  anyTypeName,
  at,
  type Body,
  type Compiled,
  ProblemList,
  readBodies,
  readBody,
  readBool,
  readDurationMs,
  readEnum,
  readInt,
  readString,
  readWrappedInt,
} from './problems.ts';
import {
  compileTransportSocket,
  compileTransportSocketMatches,
  type TransportSocketMatchConfig,
  type UpstreamTlsConfig,
} from './transport-socket-config.ts';

export type { UpstreamTlsConfig } from './transport-socket-config.ts';

export const CLUSTER_TYPES = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'] as const;
export type ClusterType = (typeof CLUSTER_TYPES)[number];

export const LB_POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] as const;
export type LbPolicy = (typeof LB_POLICIES)[number];

/** Thresholds of the DEFAULT routing priority (Envoy's defaults: 1024, 1024, 1024, 3). */
export interface CircuitBreakerThresholds {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

export interface OutlierDetectionConfig {
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

/** A compiled Cluster. */
export interface ClusterConfig {
  readonly name: string;
  readonly type: ClusterType;
  /** The ClusterLoadAssignment name to subscribe to (EDS clusters): edsClusterConfig.serviceName or the cluster name. */
  readonly edsServiceName: string;
  readonly lbPolicy: LbPolicy;
  readonly connectTimeoutMs: number;
  readonly circuitBreakers: CircuitBreakerThresholds;
  readonly outlierDetection: OutlierDetectionConfig | undefined;
  /** Percent of healthy hosts below which all hosts are used (default 50). */
  readonly healthyPanicThreshold: number;
  readonly localityWeighted: boolean;
  readonly leastRequestChoiceCount: number;
  readonly ringSize: { readonly min: number; readonly max: number };
  readonly maglevTableSize: number;
  /** Upstream protocol: HTTP/2 when the HttpProtocolOptions say explicit http2 (or the deprecated cluster field). */
  readonly http2: boolean;
  /** The cluster's `transportSocket` (undefined = plaintext). */
  readonly tls: UpstreamTlsConfig | undefined;
  /** Per-endpoint transports (`transportSocketMatches`), tried before `tls`. */
  readonly socketMatches: readonly TransportSocketMatchConfig[];
  /** Endpoints given inline (STATIC, STRICT_DNS, LOGICAL_DNS). */
  readonly loadAssignment: EndpointsConfig | undefined;
  /**
   * `upstreamBindConfig.sourceAddress`: the local IP upstream connections
   * bind to (Istio gives inbound clusters 127.0.0.6, which the capture rules
   * let through instead of redirecting the proxy's call to its own pod IP).
   */
  readonly sourceAddress: string | undefined;
  /** ORIGINAL_DST clusters: how the upstream host is chosen and how long unused hosts stay. */
  readonly originalDst: OriginalDstConfig | undefined;
}

/**
 * An ORIGINAL_DST cluster's settings (Cluster.originalDstLbConfig and
 * cleanupInterval): the upstream host is the downstream connection's
 * original destination, or the `httpHeaderName` header's `ip:port` when
 * `useHttpHeader` is set and the header is present; `upstreamPortOverride`
 * replaces the port either way.
 */
export interface OriginalDstConfig {
  readonly useHttpHeader: boolean;
  /** Lowercased; Envoy's default `x-envoy-original-dst-host`. */
  readonly httpHeaderName: string;
  readonly upstreamPortOverride: number | undefined;
  /** Hosts not used for this long are removed with their pools (Envoy's default 5 s). */
  readonly cleanupIntervalMs: number;
}

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Compiles a Cluster body; problems carry field paths for the NACK. */
export function compileCluster(body: Body): Compiled<ClusterConfig> {
  const problems = new ProblemList();
  const name = readString(body, 'name', '', problems) ?? '';
  if (!name) problems.add('name', 'is required');
  if (body.clusterType !== undefined && body.clusterType !== null) {
    problems.add('clusterType', 'custom cluster types (e.g. aggregate) are not supported');
  }
  const type = readEnum(body, 'type', '', problems, CLUSTER_TYPES, CLUSTER_TYPES) ?? 'STATIC';
  const eds = readBody(body, 'edsClusterConfig', '', problems);
  const edsServiceName = (eds && readString(eds, 'serviceName', 'edsClusterConfig', problems)) || name;
  // CLUSTER_PROVIDED is what Envoy requires of ORIGINAL_DST clusters (Istio's PassthroughCluster); it is
  // accepted there only, and balances like ROUND_ROBIN over whatever hosts the cluster has.
  const providedOk = type === 'ORIGINAL_DST' && body.lbPolicy === 'CLUSTER_PROVIDED';
  const lbPolicy = providedOk
    ? 'ROUND_ROBIN'
    : (readEnum(body, 'lbPolicy', '', problems, LB_POLICIES, [
        'ROUND_ROBIN',
        'LEAST_REQUEST',
        '',
        'RING_HASH',
        'RANDOM',
        'MAGLEV',
        'CLUSTER_PROVIDED',
      ]) ?? 'ROUND_ROBIN');
  const connectTimeoutMs = readDurationMs(body, 'connectTimeout', '', problems) ?? 5000;
  if (connectTimeoutMs === 0) problems.add('connectTimeout', 'must be > 0');

  const circuitBreakers = compileCircuitBreakers(body, problems);
  const outlierDetection = compileOutlierDetection(body, problems);

  const common = readBody(body, 'commonLbConfig', '', problems);
  const panic = common && readBody(common, 'healthyPanicThreshold', 'commonLbConfig', problems);
  const healthyPanicThreshold = panic && typeof panic.value === 'number' ? panic.value : 50;
  if (healthyPanicThreshold < 0 || healthyPanicThreshold > 100) {
    problems.add('commonLbConfig.healthyPanicThreshold', 'must be between 0 and 100');
  }
  const localityWeighted = Boolean(common?.localityWeightedLbConfig);

  const leastRequest = readBody(body, 'leastRequestLbConfig', '', problems);
  const leastRequestChoiceCount =
    (leastRequest &&
      readWrappedInt(leastRequest, 'choiceCount', 'leastRequestLbConfig', problems, { min: 2 })) ??
    2;
  const ringHash = readBody(body, 'ringHashLbConfig', '', problems);
  const ringMin =
    (ringHash &&
      readWrappedInt(ringHash, 'minimumRingSize', 'ringHashLbConfig', problems, { min: 1, max: 8388608 })) ??
    1024;
  const ringMax =
    (ringHash &&
      readWrappedInt(ringHash, 'maximumRingSize', 'ringHashLbConfig', problems, { min: 1, max: 8388608 })) ??
    8388608;
  if (ringMin > ringMax) problems.add('ringHashLbConfig', 'minimumRingSize must be <= maximumRingSize');
  const maglev = readBody(body, 'maglevLbConfig', '', problems);
  const maglevTableSize =
    (maglev && readWrappedInt(maglev, 'tableSize', 'maglevLbConfig', problems)) ?? 65537;
  if (!isPrime(maglevTableSize) || maglevTableSize > 5000011) {
    problems.add('maglevLbConfig.tableSize', 'must be a prime number no larger than 5000011');
  }

  const http2 = compileHttp2(body, problems);
  const socket = readBody(body, 'transportSocket', '', problems);
  const tls = socket ? compileTransportSocket(socket, 'transportSocket', problems) : undefined;
  const socketMatches = compileTransportSocketMatches(body, problems);

  let loadAssignment: EndpointsConfig | undefined;
  const assignment = readBody(body, 'loadAssignment', '', problems);
  if (assignment) {
    const compiled = compileClusterLoadAssignment({ clusterName: name, ...assignment }, type === 'STATIC');
    if (compiled.ok) loadAssignment = compiled.value;
    else for (const p of compiled.problems) problems.add(at('loadAssignment', p.path), p.message);
  } else if (type === 'STRICT_DNS' || type === 'LOGICAL_DNS') {
    problems.add('loadAssignment', `is required for a ${type} cluster`);
  }
  // A STATIC cluster without loadAssignment is valid and empty (Istio's BlackHoleCluster): requests get 503 UH.
  const sourceAddress = compileSourceAddress(body, problems);
  const originalDst = type === 'ORIGINAL_DST' ? compileOriginalDst(body, problems) : undefined;

  return problems.result({
    name,
    type,
    edsServiceName,
    lbPolicy,
    connectTimeoutMs,
    circuitBreakers,
    outlierDetection,
    healthyPanicThreshold,
    localityWeighted,
    leastRequestChoiceCount,
    ringSize: { min: ringMin, max: ringMax },
    maglevTableSize,
    http2,
    tls,
    socketMatches,
    loadAssignment,
    sourceAddress,
    originalDst,
  });
}

function compileOriginalDst(body: Body, problems: ProblemList): OriginalDstConfig {
  const cleanupIntervalMs = readDurationMs(body, 'cleanupInterval', '', problems) ?? 5000;
  if (cleanupIntervalMs === 0) problems.add('cleanupInterval', 'must be > 0');
  const lb = readBody(body, 'originalDstLbConfig', '', problems);
  const path = 'originalDstLbConfig';
  const useHttpHeader = (lb && readBool(lb, 'useHttpHeader', path, problems)) ?? false;
  const httpHeaderName = ((lb && readString(lb, 'httpHeaderName', path, problems)) || '').toLowerCase();
  const upstreamPortOverride =
    lb && readWrappedInt(lb, 'upstreamPortOverride', path, problems, { min: 1, max: 65535 });
  if (lb?.metadataKey !== undefined && lb.metadataKey !== null)
    problems.add(`${path}.metadataKey`, 'dynamic metadata overrides are not supported');
  return {
    useHttpHeader,
    httpHeaderName: httpHeaderName || 'x-envoy-original-dst-host',
    upstreamPortOverride: upstreamPortOverride ?? undefined,
    cleanupIntervalMs: cleanupIntervalMs || 5000,
  };
}

/** BindConfig.source_address is a SocketAddress (not an Address): `{address, portValue}`. */
function compileSourceAddress(body: Body, problems: ProblemList): string | undefined {
  const bind = readBody(body, 'upstreamBindConfig', '', problems);
  if (!bind) return undefined;
  const path = 'upstreamBindConfig.sourceAddress';
  const source = readBody(bind, 'sourceAddress', 'upstreamBindConfig', problems);
  if (!source) {
    problems.add(path, 'is required');
    return undefined;
  }
  const address = readString(source, 'address', path, problems) ?? '';
  const port = readInt(source, 'portValue', path, problems, { min: 0, max: 65535 }) ?? 0;
  if (isIP(address) === 0)
    problems.add(`${path}.address`, `must be an IP literal, got ${JSON.stringify(address)}`);
  else if (port !== 0) problems.add(`${path}.portValue`, 'binding a fixed source port is not supported');
  else return address;
  return undefined;
}

function compileCircuitBreakers(body: Body, problems: ProblemList): CircuitBreakerThresholds {
  const breakers = readBody(body, 'circuitBreakers', '', problems);
  const defaults = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };
  if (!breakers) return defaults;
  for (const { body: t, path } of readBodies(breakers, 'thresholds', 'circuitBreakers', problems)) {
    const priority =
      readEnum(t, 'priority', path, problems, ['DEFAULT', 'HIGH'], ['DEFAULT', 'HIGH']) ?? 'DEFAULT';
    if (priority !== 'DEFAULT') continue;
    return {
      maxConnections:
        readWrappedInt(t, 'maxConnections', path, problems, { min: 0 }) ?? defaults.maxConnections,
      maxPendingRequests:
        readWrappedInt(t, 'maxPendingRequests', path, problems, { min: 0 }) ?? defaults.maxPendingRequests,
      maxRequests: readWrappedInt(t, 'maxRequests', path, problems, { min: 0 }) ?? defaults.maxRequests,
      maxRetries: readWrappedInt(t, 'maxRetries', path, problems, { min: 0 }) ?? defaults.maxRetries,
    };
  }
  return defaults;
}

function compileOutlierDetection(body: Body, problems: ProblemList): OutlierDetectionConfig | undefined {
  const od = readBody(body, 'outlierDetection', '', problems);
  if (!od) return undefined;
  const path = 'outlierDetection';
  return {
    consecutive5xx:
      readWrappedInt(od, 'consecutive_5xx', path, problems, { min: 0 }) ??
      readWrappedInt(od, 'consecutive5xx', path, problems, { min: 0 }) ??
      5,
    consecutiveGatewayFailure:
      readWrappedInt(od, 'consecutiveGatewayFailure', path, problems, { min: 0 }) ?? 5,
    intervalMs: readDurationMs(od, 'interval', path, problems) ?? 10_000,
    baseEjectionTimeMs: readDurationMs(od, 'baseEjectionTime', path, problems) ?? 30_000,
    maxEjectionPercent: readWrappedInt(od, 'maxEjectionPercent', path, problems, { min: 0, max: 100 }) ?? 10,
  };
}

function compileHttp2(body: Body, problems: ProblemList): boolean {
  if (body.http2ProtocolOptions) return true;
  const extensions = readBody(body, 'typedExtensionProtocolOptions', '', problems);
  if (!extensions) return false;
  for (const [key, value] of Object.entries(extensions)) {
    const path = `typedExtensionProtocolOptions['${key}']`;
    const options = value as Body;
    const typeName = anyTypeName(options);
    if (key !== HTTP_PROTOCOL_OPTIONS && typeName !== HTTP_PROTOCOL_OPTIONS) {
      problems.add(path, `unsupported protocol options ${typeName ?? key}`);
      continue;
    }
    const explicit = readBody(options, 'explicitHttpConfig', path, problems);
    if (explicit) return Boolean(explicit.http2ProtocolOptions);
    if (options.useDownstreamProtocolConfig) {
      problems.add(at(path, 'useDownstreamProtocolConfig'), 'is not supported yet; use explicitHttpConfig');
    }
    if (options.autoConfig)
      problems.add(at(path, 'autoConfig'), 'is not supported yet; use explicitHttpConfig');
  }
  return false;
}
