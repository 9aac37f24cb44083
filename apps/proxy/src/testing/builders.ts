/**
 * Builders for Envoy v3 resource bodies in protobufjs object form (the
 * shape @weft/xds `decodeResource` yields and `createSnapshot` accepts):
 * camelCase fields, enums as strings, Duration `{ seconds, nanos }`,
 * wrappers `{ value }`, nested Any `{ '@type', ...fields }`.
 *
 * Test-only helpers shipped as real code so unit and e2e tests share them.
 */
import type { Body } from '../config/problems.ts';

const TYPE = 'type.googleapis.com/';

/** A `google.protobuf.Duration` of `ms` milliseconds. */
export function duration(ms: number): Body {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function socketAddress(address: string, port: number): Body {
  return { socketAddress: { address, portValue: port } };
}

export interface EndpointSpec {
  address?: string;
  port: number;
  health?: string;
  weight?: number;
  priority?: number;
  zone?: string;
  /** Metadata `envoy.transport_socket_match` (e.g. `{ tlsMode: 'istio' }`). */
  socketMatch?: Record<string, string>;
}

/** A ClusterLoadAssignment; endpoints are grouped into localities by (zone, priority). */
export function clusterLoadAssignment(clusterName: string, endpoints: readonly EndpointSpec[]): Body {
  const groups = new Map<string, { zone: string; priority: number; lbEndpoints: Body[] }>();
  for (const e of endpoints) {
    const zone = e.zone ?? '';
    const priority = e.priority ?? 0;
    const key = `${zone}@${priority}`;
    const group = groups.get(key) ?? { zone, priority, lbEndpoints: [] };
    groups.set(key, group);
    group.lbEndpoints.push({
      endpoint: { address: socketAddress(e.address ?? '127.0.0.1', e.port) },
      ...(e.health ? { healthStatus: e.health } : {}),
      ...(e.weight ? { loadBalancingWeight: { value: e.weight } } : {}),
      ...(e.socketMatch
        ? { metadata: { filterMetadata: { 'envoy.transport_socket_match': e.socketMatch } } }
        : {}),
    });
  }
  return {
    clusterName,
    endpoints: [...groups.values()].map((g) => ({
      locality: g.zone ? { region: 'r', zone: g.zone } : {},
      priority: g.priority,
      lbEndpoints: g.lbEndpoints,
    })),
  };
}

/** An EDS cluster (endpoints come over ADS). */
export function edsCluster(name: string, overrides: Body = {}): Body {
  return {
    name,
    type: 'EDS',
    edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } },
    connectTimeout: duration(1000),
    ...overrides,
  };
}

/** A STATIC cluster with inline endpoints. */
export function staticCluster(name: string, endpoints: readonly EndpointSpec[], overrides: Body = {}): Body {
  return {
    name,
    type: 'STATIC',
    connectTimeout: duration(1000),
    loadAssignment: clusterLoadAssignment(name, endpoints),
    ...overrides,
  };
}

/** Cluster fields that make the upstream speak HTTP/2 (h2c). */
export function http2ProtocolOptions(): Body {
  return {
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': `${TYPE}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
        explicitHttpConfig: { http2ProtocolOptions: {} },
      },
    },
  };
}

/** A Route forwarding to one cluster, matching `match` (default prefix `/`). */
export function routeTo(
  cluster: string,
  match: Body = { prefix: '/' },
  action: Body = {},
  extra: Body = {},
): Body {
  return { match, route: { cluster, ...action }, ...extra };
}

/** A Route splitting traffic across clusters by weight. */
export function weightedRoute(
  clusters: ReadonlyArray<readonly [string, number]>,
  match: Body = { prefix: '/' },
): Body {
  return {
    match,
    route: {
      weightedClusters: { clusters: clusters.map(([name, weight]) => ({ name, weight: { value: weight } })) },
    },
  };
}

export function virtualHost(
  name: string,
  domains: readonly string[],
  routes: readonly Body[],
  extra: Body = {},
): Body {
  return { name, domains, routes, ...extra };
}

export function routeConfiguration(name: string, virtualHosts: readonly Body[], extra: Body = {}): Body {
  return { name, virtualHosts, ...extra };
}

/** An HTTPFault body for `typedPerFilterConfig['envoy.filters.http.fault']`. */
export function fault(spec: { delayMs?: number; abortStatus?: number; percent?: number }): Body {
  const percentage = { numerator: spec.percent ?? 100, denominator: 'HUNDRED' };
  return {
    '@type': `${TYPE}envoy.extensions.filters.http.fault.v3.HTTPFault`,
    ...(spec.delayMs !== undefined ? { delay: { fixedDelay: duration(spec.delayMs), percentage } } : {}),
    ...(spec.abortStatus !== undefined ? { abort: { httpStatus: spec.abortStatus, percentage } } : {}),
  };
}

export function httpFilter(kind: 'router' | 'fault' | 'cors'): Body {
  const types = {
    router: 'envoy.extensions.filters.http.router.v3.Router',
    fault: 'envoy.extensions.filters.http.fault.v3.HTTPFault',
    cors: 'envoy.extensions.filters.http.cors.v3.Cors',
  };
  return { name: `envoy.filters.http.${kind}`, typedConfig: { '@type': `${TYPE}${types[kind]}` } };
}

/** An HttpConnectionManager network filter using RDS (`rds` a name) or an inline route config. */
export function httpConnectionManager(routes: string | Body, extra: Body = {}): Body {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: {
      '@type': `${TYPE}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
      statPrefix: 'http',
      ...(typeof routes === 'string'
        ? { rds: { routeConfigName: routes, configSource: { ads: {}, resourceApiVersion: 'V3' } } }
        : { routeConfig: routes }),
      httpFilters: [httpFilter('fault'), httpFilter('cors'), httpFilter('router')],
      ...extra,
    },
  };
}

export function tcpProxy(cluster: string, extra: Body = {}): Body {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typedConfig: {
      '@type': `${TYPE}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`,
      statPrefix: 'tcp',
      cluster,
      ...extra,
    },
  };
}

/** A Listener on `host:port` with the given filter chains. */
export function listener(name: string, port: number, filterChains: readonly Body[], extra: Body = {}): Body {
  return { name, address: socketAddress('127.0.0.1', port), filterChains, ...extra };
}

/** A filter chain holding one terminal network filter, with an optional filterChainMatch. */
export function filterChain(network: Body, match?: Body): Body {
  return { ...(match ? { filterChainMatch: match } : {}), filters: [network] };
}

/** Istio's auto-mTLS `transportSocketMatches`: mTLS (SDS certificates) for `tlsMode: istio`, else plaintext. */
export function istioAutoMtlsMatches(): Body[] {
  return [
    {
      name: 'tlsMode-istio',
      match: { tlsMode: 'istio' },
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }] },
          sni: 'outbound_.80_._.a.default.svc.cluster.local',
        },
      },
    },
    {
      name: 'tlsMode-disabled',
      match: {},
      transportSocket: {
        name: 'envoy.transport_sockets.raw_buffer',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
        },
      },
    },
  ];
}
