/**
 * Route selection over a compiled RouteConfiguration: virtual host by
 * domain, then the first matching route, then a weighted cluster.
 *
 * Domain precedence is Envoy's (route.v3.VirtualHost.domains): exact, then
 * suffix wildcards longest first, then prefix wildcards longest first, then
 * `*`. The Host is matched as given, port included (Istio lists domains
 * both with and without the port); no port stripping.
 */

import type { ForwardAction, WeightedClusterConfig } from '../config/route-action-config.ts';
import type {
  RouteConfig,
  RouteEntryConfig,
  RouteMatchConfig,
  VirtualHostConfig,
} from '../config/route-config.ts';

/** Request headers as node:http gives them: lowercased names. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** The parts of a request routing reads. */
export interface RouteRequest {
  /** Host or :authority, as received. */
  readonly authority: string;
  /** :path including the query string. */
  readonly path: string;
  readonly headers: RequestHeaders;
}

function lookupDomain(config: RouteConfig, host: string): VirtualHostConfig | undefined {
  const exact = config.exactDomains.get(host);
  if (exact) return exact;
  for (const { suffix, virtualHost } of config.suffixDomains) {
    if (host.length > suffix.length && host.endsWith(suffix)) return virtualHost;
  }
  for (const { prefix, virtualHost } of config.prefixDomains) {
    if (host.length > prefix.length && host.startsWith(prefix)) return virtualHost;
  }
  return undefined;
}

/** The virtual host serving `authority`, or undefined (Envoy answers 404 with flag NR). */
export function selectVirtualHost(config: RouteConfig, authority: string): VirtualHostConfig | undefined {
  return lookupDomain(config, authority.toLowerCase()) ?? config.anyDomain;
}

/** Reads a header as one string (repeated values joined with `,`, as Envoy does). */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function queryValue(query: string, name: string): string | undefined {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
  }
  return undefined;
}

function pathMatches(match: RouteMatchConfig, fullPath: string): boolean {
  const q = fullPath.indexOf('?');
  const bare = q < 0 ? fullPath : fullPath.slice(0, q);
  switch (match.kind) {
    case 'prefix':
      return (match.caseSensitive ? fullPath : fullPath.toLowerCase()).startsWith(match.value);
    case 'path':
      return (match.caseSensitive ? bare : bare.toLowerCase()) === match.value;
    case 'pathSeparatedPrefix': {
      const p = match.caseSensitive ? bare : bare.toLowerCase();
      return p.startsWith(match.value) && (p.length === match.value.length || p[match.value.length] === '/');
    }
    case 'regex':
      return match.regex?.test(bare) ?? false;
  }
}

/** True when `request` satisfies the route's match (path, headers, query, gRPC, runtime fraction). */
export function routeMatches(
  match: RouteMatchConfig,
  request: RouteRequest,
  random: () => number = Math.random,
): boolean {
  if (!pathMatches(match, request.path)) return false;
  for (const h of match.headers) if (!h.test(headerValue(request.headers, h.name))) return false;
  if (match.query.length > 0) {
    const q = request.path.indexOf('?');
    const query = q < 0 ? '' : request.path.slice(q + 1);
    for (const m of match.query) if (!m.test(queryValue(query, m.name))) return false;
  }
  if (match.grpc && !headerValue(request.headers, 'content-type')?.startsWith('application/grpc'))
    return false;
  if (match.fraction < 1 && random() >= match.fraction) return false;
  return true;
}

/** The first route of `virtualHost` matching `request`, in order. */
export function selectRoute(
  virtualHost: VirtualHostConfig,
  request: RouteRequest,
  random: () => number = Math.random,
): RouteEntryConfig | undefined {
  for (const route of virtualHost.routes) if (routeMatches(route.match, request, random)) return route;
  return undefined;
}

/**
 * The cluster a forward action sends to: the single cluster, a weighted
 * pick (`random` in [0, 1)), or the cluster named by `clusterHeader`.
 */
export function pickCluster(
  action: ForwardAction,
  headers: RequestHeaders,
  random: () => number = Math.random,
): WeightedClusterConfig | string | undefined {
  if (action.clusterHeader) return headerValue(headers, action.clusterHeader);
  const clusters = action.clusters;
  if (clusters.length === 1) return clusters[0];
  let ticket = random() * action.totalWeight;
  for (const c of clusters) {
    if (ticket < c.weight) return c;
    ticket -= c.weight;
  }
  return clusters[clusters.length - 1];
}
