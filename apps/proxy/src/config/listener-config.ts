/**
 * Listener -> immutable listener settings: address, filter chains with
 * their match criteria, and the one terminal network filter per chain
 * (HTTP connection manager or TCP proxy). See
 * envoy/config/listener/v3/listener.proto, listener_components.proto,
 * envoy/extensions/filters/network/http_connection_manager/v3 and
 * envoy/extensions/filters/network/tcp_proxy/v3.
 */

import type { RbacConfig } from '../filters/rbac-config.ts';
import { compileNetworkRbac, NETWORK_RBAC_NAME, NETWORK_RBAC_TYPE } from '../security/network-rbac.ts';
import {
  compileSecurityHttpFilter,
  compileXfcc,
  type SecurityFilterConfig,
} from '../security/security-filters.ts';
import { compileDownstreamTlsContext, type DownstreamTlsConfig } from '../tls/tls-context-config.ts';
import { readSocketAddress } from './endpoint-config.ts';
import {
  CORS_FILTER,
  CORS_TYPE,
  compileFault,
  FAULT_FILTER,
  FAULT_TYPE,
  type FaultConfig,
  ROUTER_FILTER,
  ROUTER_TYPE,
} from './http-filter-config.ts';
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
  readString,
  readStrings,
  readWrappedBool,
  readWrappedInt,
} from './problems.ts';
import { compileRouteConfiguration, type RouteConfig } from './route-config.ts';

export const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const TCP_PROXY_TYPE = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const HCM_NAME = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY_NAME = 'envoy.filters.network.tcp_proxy';

/** Listener filters weft-proxy understands (their work is done by its own sniffer). */
const LISTENER_FILTERS: Record<string, string> = {
  'envoy.filters.listener.original_dst': 'originalDst',
  'envoy.extensions.filters.listener.original_dst.v3.OriginalDst': 'originalDst',
  'envoy.filters.listener.tls_inspector': 'tlsInspector',
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector': 'tlsInspector',
  'envoy.filters.listener.http_inspector': 'httpInspector',
  'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector': 'httpInspector',
};

/** A built-in filter by kind, or a compiled security filter (RBAC, jwt_authn, XFCC). */
export type HttpFilterKind = 'fault' | 'cors' | 'router' | SecurityFilterConfig;

export interface HttpConnectionManagerConfig {
  readonly kind: 'http';
  readonly statPrefix: string;
  readonly codecType: 'AUTO' | 'HTTP1' | 'HTTP2';
  /** Exactly one of rds (a RouteConfiguration name) or an inline routeConfig. */
  readonly rds: string | undefined;
  readonly routeConfig: RouteConfig | undefined;
  /** The filter chain in order; always ends with `router`. */
  readonly httpFilters: readonly HttpFilterKind[];
  /** The fault filter's own config (applies when no route overrides it). */
  readonly fault: FaultConfig | undefined;
  readonly streamIdleTimeoutMs: number;
  /** HTTP/1.1: time for a request's body once its head arrived (`request_timeout`); 0 never. */
  readonly requestTimeoutMs: number;
  /** HTTP/1.1: time for a request head once its first byte arrived (`request_headers_timeout`; weft's default 60 s); 0 never. */
  readonly requestHeadersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxRequestHeadersKb: number;
  /** HTTP/1.1: header fields per request (`common_http_protocol_options.max_headers_count`, default 100); 431 above. */
  readonly maxHeadersCount: number;
  readonly serverName: string;
  readonly websocket: boolean;
  /** RFC 3986 dot-segment removal before routing (HCM normalizePath). */
  readonly normalizePath: boolean;
  /** Collapse repeated slashes before routing (HCM mergeSlashes). */
  readonly mergeSlashes: boolean;
  /** Append the downstream peer address to x-forwarded-for (HCM useRemoteAddress). */
  readonly useRemoteAddress: boolean;
}

export interface TcpProxyConfig {
  readonly kind: 'tcp';
  readonly statPrefix: string;
  readonly clusters: readonly { readonly name: string; readonly weight: number }[];
  /** 0 disables (default 1 h). */
  readonly idleTimeoutMs: number;
}

export interface FilterChainMatchConfig {
  readonly destinationPort: number | undefined;
  readonly transportProtocol: string | undefined;
  readonly applicationProtocols: readonly string[];
  readonly serverNames: readonly string[];
}

export interface FilterChainConfig {
  readonly name: string;
  readonly match: FilterChainMatchConfig;
  readonly network: HttpConnectionManagerConfig | TcpProxyConfig;
  /** Downstream TLS termination (the chain's DownstreamTlsContext transport socket), else plaintext. */
  readonly tls: DownstreamTlsConfig | undefined;
  /** `envoy.filters.network.rbac` filters before the terminal filter: all must allow the connection. */
  readonly networkRbac: readonly RbacConfig[];
}

export interface ListenerConfig {
  readonly name: string;
  readonly address: { readonly host: string; readonly port: number };
  /** False for listeners reached only through a capture listener's original destination. */
  readonly bindToPort: boolean;
  /**
   * Envoy's `useOriginalDst`: hand each accepted connection to the listener
   * of its original destination (see ListenerManager). Implies
   * `recoverOriginalDst`.
   */
  readonly useOriginalDst: boolean;
  /**
   * Read the original destination of redirected connections (the
   * original_dst listener filter, or `useOriginalDst`); filter chains then
   * match on its port.
   */
  readonly recoverOriginalDst: boolean;
  readonly trafficDirection: 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND';
  readonly filterChains: readonly FilterChainConfig[];
  readonly defaultFilterChain: FilterChainConfig | undefined;
  /** gRPC proxyless API listeners carry no address; the proxy never binds them. */
  readonly apiListener: boolean;
}

/** Compiles a Listener body. */
export function compileListener(body: Body): Compiled<ListenerConfig> {
  const problems = new ProblemList();
  const name = readString(body, 'name', '', problems) ?? '';
  if (!name) problems.add('name', 'is required');
  const apiListener = Boolean(body.apiListener);
  const address = apiListener ? { address: '', port: 0 } : readSocketAddress(body, 'address', '', problems);
  const useOriginalDst = readWrappedBool(body, 'useOriginalDst', '', problems) ?? false;
  let recoverOriginalDst = useOriginalDst;
  for (const { body: f, path } of readBodies(body, 'listenerFilters', '', problems)) {
    const key =
      anyTypeName(readBody(f, 'typedConfig', path, problems)) ?? readString(f, 'name', path, problems) ?? '';
    const known = LISTENER_FILTERS[key] ?? LISTENER_FILTERS[String(f.name)];
    if (!known) problems.add(path, `unsupported listener filter ${key}`);
    if (known === 'originalDst') recoverOriginalDst = true;
  }
  const filterChains: FilterChainConfig[] = [];
  for (const { body: chain, path } of readBodies(body, 'filterChains', '', problems)) {
    const compiled = compileFilterChain(chain, path, problems);
    if (compiled) filterChains.push(compiled);
  }
  const defaultBody = readBody(body, 'defaultFilterChain', '', problems);
  const defaultFilterChain = defaultBody
    ? compileFilterChain(defaultBody, 'defaultFilterChain', problems)
    : undefined;
  if (!apiListener && filterChains.length === 0 && !defaultFilterChain) {
    problems.add('filterChains', 'at least one filter chain (or a defaultFilterChain) is required');
  }
  const trafficDirection =
    readEnum(
      body,
      'trafficDirection',
      '',
      problems,
      ['UNSPECIFIED', 'INBOUND', 'OUTBOUND'],
      ['UNSPECIFIED', 'INBOUND', 'OUTBOUND'],
    ) ?? 'UNSPECIFIED';
  return problems.result({
    name,
    address: { host: address?.address ?? '', port: address?.port ?? 0 },
    bindToPort: readWrappedBool(body, 'bindToPort', '', problems) ?? true,
    useOriginalDst,
    recoverOriginalDst,
    trafficDirection,
    filterChains,
    defaultFilterChain,
    apiListener,
  });
}

function compileFilterChain(body: Body, path: string, problems: ProblemList): FilterChainConfig | undefined {
  const matchBody = readBody(body, 'filterChainMatch', path, problems) ?? {};
  const matchPath = at(path, 'filterChainMatch');
  for (const field of ['prefixRanges', 'sourcePrefixRanges', 'sourcePorts', 'directSourcePrefixRanges']) {
    if (Array.isArray(matchBody[field]) && (matchBody[field] as unknown[]).length > 0) {
      problems.add(at(matchPath, field), 'is not supported yet');
    }
  }
  const match: FilterChainMatchConfig = {
    destinationPort: readWrappedInt(matchBody, 'destinationPort', matchPath, problems, {
      min: 1,
      max: 65535,
    }),
    transportProtocol: readString(matchBody, 'transportProtocol', matchPath, problems) || undefined,
    applicationProtocols: readStrings(matchBody, 'applicationProtocols', matchPath, problems),
    serverNames: readStrings(matchBody, 'serverNames', matchPath, problems).map((s) => s.toLowerCase()),
  };
  const tls = compileChainTransportSocket(body, path, problems);
  const filters = readBodies(body, 'filters', path, problems);
  if (filters.length === 0) {
    problems.add(at(path, 'filters'), 'must not be empty');
    return undefined;
  }
  let network: FilterChainConfig['network'] | undefined;
  const networkRbac: RbacConfig[] = [];
  filters.forEach(({ body: filter, path: fPath }, i) => {
    const config = readBody(filter, 'typedConfig', fPath, problems);
    const typeName = anyTypeName(config) ?? '';
    const filterName = readString(filter, 'name', fPath, problems) ?? '';
    const isHcm = typeName === HCM_TYPE || (!config && filterName === HCM_NAME);
    const isTcp = typeName === TCP_PROXY_TYPE || (!config && filterName === TCP_PROXY_NAME);
    if (typeName === NETWORK_RBAC_TYPE || (!config && filterName === NETWORK_RBAC_NAME)) {
      const rbac = compileNetworkRbac(config, fPath, problems);
      if (rbac) networkRbac.push(rbac);
      return;
    }
    if (!isHcm && !isTcp) {
      problems.add(fPath, `unsupported network filter ${typeName || filterName}`);
      return;
    }
    if (i !== filters.length - 1) {
      problems.add(fPath, 'a terminal filter must be the last in the chain');
      return;
    }
    const cfgPath = at(fPath, 'typedConfig');
    network = isHcm
      ? compileHcm(config ?? {}, cfgPath, problems)
      : compileTcpProxy(config ?? {}, cfgPath, problems);
  });
  if (!network) return undefined;
  return { name: readString(body, 'name', path, problems) ?? '', match, network, tls, networkRbac };
}

const DOWNSTREAM_TLS_TYPE = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const RAW_BUFFER_TYPE = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

/** A filter chain's `transportSocket`: raw buffer (undefined) or a DownstreamTlsContext. */
function compileChainTransportSocket(
  body: Body,
  path: string,
  problems: ProblemList,
): DownstreamTlsConfig | undefined {
  const socket = readBody(body, 'transportSocket', path, problems);
  if (!socket) return undefined;
  const socketPath = at(path, 'transportSocket');
  const config = readBody(socket, 'typedConfig', socketPath, problems);
  const typeName = anyTypeName(config);
  if (typeName === RAW_BUFFER_TYPE || (!config && socket.name === 'envoy.transport_sockets.raw_buffer'))
    return undefined;
  if (typeName !== DOWNSTREAM_TLS_TYPE || !config) {
    problems.add(socketPath, `unsupported transport socket ${typeName ?? String(socket.name)}`);
    return undefined;
  }
  return compileDownstreamTlsContext(config, at(socketPath, 'typedConfig'), problems);
}

function compileHcm(body: Body, path: string, problems: ProblemList): HttpConnectionManagerConfig {
  const statPrefix = readString(body, 'statPrefix', path, problems) ?? '';
  const codecType =
    readEnum(body, 'codecType', path, problems, ['AUTO', 'HTTP1', 'HTTP2'], ['AUTO', 'HTTP1', 'HTTP2']) ??
    'AUTO';
  const rdsBody = readBody(body, 'rds', path, problems);
  const rds = rdsBody ? readString(rdsBody, 'routeConfigName', at(path, 'rds'), problems) : undefined;
  if (rdsBody && !rds) problems.add(at(path, 'rds.routeConfigName'), 'is required');
  let routeConfig: RouteConfig | undefined;
  const inline = readBody(body, 'routeConfig', path, problems);
  if (inline) {
    const compiled = compileRouteConfiguration(inline, at(path, 'routeConfig'));
    if (compiled.ok) routeConfig = compiled.value;
    else for (const p of compiled.problems) problems.add(p.path, p.message);
  }
  if (body.scopedRoutes) problems.add(at(path, 'scopedRoutes'), 'is not supported');
  if (!rds && !inline) problems.add(path, 'one of rds or routeConfig is required');
  const httpFilters: HttpFilterKind[] = [compileXfcc(body, path, problems)];
  let fault: FaultConfig | undefined;
  const filterBodies = readBodies(body, 'httpFilters', path, problems);
  filterBodies.forEach(({ body: f, path: fPath }) => {
    if (readBool(f, 'disabled', fPath, problems)) return;
    const config = readBody(f, 'typedConfig', fPath, problems);
    const key = anyTypeName(config) ?? readString(f, 'name', fPath, problems) ?? '';
    const security = compileSecurityHttpFilter(key, config, fPath, problems);
    if (security) httpFilters.push(security);
    else if (key === ROUTER_TYPE || key === ROUTER_FILTER) httpFilters.push('router');
    else if (key === CORS_TYPE || key === CORS_FILTER) httpFilters.push('cors');
    else if (key === FAULT_TYPE || key === FAULT_FILTER) {
      httpFilters.push('fault');
      if (config && Object.keys(config).length > 1)
        fault = compileFault(config, at(fPath, 'typedConfig'), problems);
    } else if (!readBool(f, 'isOptional', fPath, problems)) {
      problems.add(fPath, `unsupported HTTP filter ${key} (mark it isOptional to skip it)`);
    }
  });
  if (httpFilters.at(-1) !== 'router')
    problems.add(at(path, 'httpFilters'), 'the router filter must be present and last');
  const common = readBody(body, 'commonHttpProtocolOptions', path, problems);
  const websocket = readBodies(body, 'upgradeConfigs', path, problems).some(
    ({ body: u }) => String(u.upgradeType).toLowerCase() === 'websocket' && u.enabled !== false,
  );
  return {
    kind: 'http',
    statPrefix,
    codecType,
    rds,
    routeConfig,
    httpFilters,
    fault,
    streamIdleTimeoutMs: readDurationMs(body, 'streamIdleTimeout', path, problems) ?? 300_000,
    requestTimeoutMs: readDurationMs(body, 'requestTimeout', path, problems) ?? 0,
    requestHeadersTimeoutMs: readDurationMs(body, 'requestHeadersTimeout', path, problems) ?? 60_000,
    idleTimeoutMs:
      (common && readDurationMs(common, 'idleTimeout', at(path, 'commonHttpProtocolOptions'), problems)) ??
      3_600_000,
    maxRequestHeadersKb:
      readWrappedInt(body, 'maxRequestHeadersKb', path, problems, { min: 1, max: 8192 }) ?? 60,
    maxHeadersCount:
      (common &&
        readWrappedInt(common, 'maxHeadersCount', at(path, 'commonHttpProtocolOptions'), problems, {
          min: 1,
          max: 100_000,
        })) ??
      100,
    serverName: readString(body, 'serverName', path, problems) || 'weft',
    normalizePath: readWrappedBool(body, 'normalizePath', path, problems) ?? false,
    mergeSlashes: readBool(body, 'mergeSlashes', path, problems) ?? false,
    useRemoteAddress: readWrappedBool(body, 'useRemoteAddress', path, problems) ?? false,
    websocket,
  };
}

function compileTcpProxy(body: Body, path: string, problems: ProblemList): TcpProxyConfig {
  const clusters: Array<{ name: string; weight: number }> = [];
  const cluster = readString(body, 'cluster', path, problems);
  const weighted = readBody(body, 'weightedClusters', path, problems);
  if (cluster) clusters.push({ name: cluster, weight: 1 });
  else if (weighted) {
    for (const { body: c, path: cPath } of readBodies(
      weighted,
      'clusters',
      at(path, 'weightedClusters'),
      problems,
    )) {
      const name = readString(c, 'name', cPath, problems);
      const weight = typeof c.weight === 'number' ? c.weight : 0;
      if (!name || weight < 1) problems.add(cPath, 'name and a weight >= 1 are required');
      else clusters.push({ name, weight });
    }
  }
  if (clusters.length === 0) problems.add(path, 'one of cluster or weightedClusters is required');
  return {
    kind: 'tcp',
    statPrefix: readString(body, 'statPrefix', path, problems) ?? '',
    clusters,
    idleTimeoutMs: readDurationMs(body, 'idleTimeout', path, problems) ?? 3_600_000,
  };
}
