/**
 * A request simulator: pushes one request (port, authority, path, method,
 * headers, SNI) through generated Envoy resources the way Envoy would pick
 * a listener, filter chain, virtual host, route, cluster and endpoint, and
 * says what it hit. Used by the translation tests instead of comparing
 * protos, and usable as a debug tool ("where would this request go?").
 *
 * It models the parts of Envoy's matching that Weft generates: listener by
 * name/port, filter chains by destination port / SNI / transport protocol,
 * virtual hosts by domain (exact, then longest suffix wildcard, then longest
 * prefix wildcard, then `*`), routes in order by path (prefix, path,
 * safe_regex, case sensitivity), headers and query parameters; weighted
 * clusters by a caller-chosen point in [0, 1); EDS endpoints of the first
 * priority with a healthy endpoint.
 */
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
  type TypeUrl,
} from '@weft/xds';
import type { Body } from './envoy/values.ts';

/** The request to simulate. */
export interface SimulatedRequest {
  /** Destination port (outbound listener port, gateway port, or workload port inbound). */
  port: number;
  /** Host / :authority; for proxyless clients the `xds:///` target `HOST:PORT`. */
  authority?: string;
  /** Path with optional query string; default `/`. */
  path?: string;
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  /** TLS SNI, for gateway TLS chains; implies a TLS connection. */
  sni?: string;
  /** Original destination address, for per-VIP TCP listeners (inbound: a local-mode `inbound_IP_PORT` listener). */
  destinationAddress?: string;
  /** `outbound` (default) or `inbound` (through virtualInbound). */
  direction?: 'outbound' | 'inbound';
  /** Where in [0, 1) to land among weighted clusters and endpoints; default 0. */
  pick?: number;
}

/** What the request hit. Fields are set as far as the walk got; `error` says where it stopped. */
export interface SimulationResult {
  listener?: string;
  filterChain?: string;
  routeConfig?: string;
  virtualHost?: string;
  /** The matched Envoy route (for retries, timeouts, fault, mirror, headers...). */
  route?: Body;
  routeName?: string;
  cluster?: string;
  weightedClusters?: { name: string; weight: number }[];
  endpoint?: string;
  redirect?: Body;
  directResponse?: { status: number };
  /** How the proxy talks to the chosen endpoint (set with `endpoint`). */
  transportSocket?: SimulatedTransport;
  error?: string;
}

/** The transport toward an endpoint: mesh mTLS (SDS `default`), user TLS, or plaintext. */
export interface SimulatedTransport {
  kind: 'mesh-mtls' | 'tls' | 'plaintext';
  /** The cluster's transport socket match that applied, when it has matches. */
  match?: string;
  sni?: string;
  /** URI/DNS SAN values the server certificate must carry (any of them). */
  subjectAltNames?: string[];
  alpn?: string[];
}

/** Describes a transport socket (undefined = Envoy's plaintext default). */
function describeTransport(socket: Body | undefined): SimulatedTransport {
  const config = (socket?.typedConfig ?? {}) as Body;
  if (!socket || !String(config['@type'] ?? '').endsWith('.UpstreamTlsContext')) return { kind: 'plaintext' };
  const common = (config.commonTlsContext ?? {}) as Body;
  const certs = asBodies(common.tlsCertificateSdsSecretConfigs);
  const validation = ((common.combinedValidationContext as Body | undefined)?.defaultValidationContext ??
    common.validationContext ??
    {}) as Body;
  const out: SimulatedTransport = { kind: certs.some((c) => c.name === 'default') ? 'mesh-mtls' : 'tls' };
  if (typeof config.sni === 'string') out.sni = config.sni;
  const sans = asBodies(validation.matchTypedSubjectAltNames).map((m) =>
    String((m.matcher as Body).exact ?? (m.matcher as Body).prefix),
  );
  if (sans.length > 0) out.subjectAltNames = sans;
  if (Array.isArray(common.alpnProtocols)) out.alpn = common.alpnProtocols as string[];
  return out;
}

/**
 * Envoy's transport socket choice for an endpoint: the first of the
 * cluster's `transportSocketMatches` whose `match` fields all equal the
 * endpoint's `envoy.transport_socket_match` metadata, else the cluster's
 * `transportSocket`.
 */
export function transportFor(cluster: Body, lbEndpoint: Body | undefined): SimulatedTransport {
  const metadata = (((lbEndpoint?.metadata as Body | undefined)?.filterMetadata as Body | undefined)?.[
    'envoy.transport_socket_match'
  ] ?? {}) as Body;
  for (const candidate of asBodies(cluster.transportSocketMatches)) {
    const match = (candidate.match ?? {}) as Body;
    if (Object.entries(match).every(([key, value]) => metadata[key] === value))
      return {
        ...describeTransport(candidate.transportSocket as Body | undefined),
        match: String(candidate.name),
      };
  }
  return describeTransport(cluster.transportSocket as Body | undefined);
}

type Resources = Partial<Record<TypeUrl, readonly Resource[]>>;

function byName(resources: Resources, typeUrl: TypeUrl, name: string): Body | undefined {
  return resources[typeUrl]?.find((r) => r.name === name)?.body;
}

function all(resources: Resources, typeUrl: TypeUrl): Body[] {
  return (resources[typeUrl] ?? []).map((r) => r.body);
}

const asBodies = (value: unknown): Body[] => (Array.isArray(value) ? (value as Body[]) : []);

/** Evaluates an Envoy StringMatcher. */
export function stringMatches(matcher: Body, value: string): boolean {
  const ignoreCase = matcher.ignoreCase === true;
  const v = ignoreCase ? value.toLowerCase() : value;
  const norm = (s: unknown) => (ignoreCase ? String(s).toLowerCase() : String(s));
  if (matcher.exact !== undefined) return v === norm(matcher.exact);
  if (matcher.prefix !== undefined) return v.startsWith(norm(matcher.prefix));
  if (matcher.suffix !== undefined) return v.endsWith(norm(matcher.suffix));
  if (matcher.contains !== undefined) return v.includes(norm(matcher.contains));
  const regex = (matcher.safeRegex as Body | undefined)?.regex;
  if (typeof regex === 'string') return new RegExp(`^(?:${regex})$`).test(value);
  return false;
}

/** Evaluates an Envoy HeaderMatcher against lowercase-keyed headers (pseudo-headers included). */
export function headerMatches(matcher: Body, headers: ReadonlyMap<string, string>): boolean {
  const value = headers.get(String(matcher.name).toLowerCase());
  let result: boolean;
  if (matcher.presentMatch !== undefined) result = (value !== undefined) === (matcher.presentMatch === true);
  else if (value === undefined) result = false;
  else if (matcher.stringMatch) result = stringMatches(matcher.stringMatch as Body, value);
  else if (matcher.exactMatch !== undefined) result = value === matcher.exactMatch;
  else result = true;
  return matcher.invertMatch === true ? !result : result;
}

function pathMatches(match: Body, path: string): boolean {
  const caseSensitive = (match.caseSensitive as { value?: boolean } | undefined)?.value !== false;
  const p = caseSensitive ? path : path.toLowerCase();
  const norm = (s: unknown) => (caseSensitive ? String(s) : String(s).toLowerCase());
  if (match.prefix !== undefined) return p.startsWith(norm(match.prefix));
  if (match.path !== undefined) return p === norm(match.path);
  const regex = (match.safeRegex as Body | undefined)?.regex;
  if (typeof regex === 'string') return new RegExp(`^(?:${regex})$`, caseSensitive ? '' : 'i').test(path);
  return false;
}

/** True when an Envoy RouteMatch matches the request. */
export function routeMatches(
  match: Body,
  path: string,
  query: URLSearchParams,
  headers: Map<string, string>,
): boolean {
  if (!pathMatches(match, path)) return false;
  if (!asBodies(match.headers).every((h) => headerMatches(h, headers))) return false;
  return asBodies(match.queryParameters).every((q) => {
    const value = query.get(String(q.name));
    if (q.presentMatch === true) return value !== null;
    if (value === null) return false;
    return q.stringMatch ? stringMatches(q.stringMatch as Body, value) : true;
  });
}

/** Envoy's virtual host selection by domain. */
export function selectVirtualHost(virtualHosts: readonly Body[], authority: string): Body | undefined {
  const host = authority.toLowerCase();
  const candidates = virtualHosts.flatMap((vh) =>
    (vh.domains as string[]).map((d) => ({ vh, d: d.toLowerCase() })),
  );
  const exact = candidates.find((c) => c.d === host);
  if (exact) return exact.vh;
  const suffix = candidates
    .filter(
      (c) =>
        c.d.startsWith('*') && c.d !== '*' && host.endsWith(c.d.slice(1)) && host.length > c.d.length - 1,
    )
    .sort((a, b) => b.d.length - a.d.length)[0];
  if (suffix) return suffix.vh;
  const prefix = candidates
    .filter((c) => c.d.endsWith('*') && c.d !== '*' && host.startsWith(c.d.slice(0, -1)))
    .sort((a, b) => b.d.length - a.d.length)[0];
  if (prefix) return prefix.vh;
  return candidates.find((c) => c.d === '*')?.vh;
}

function sniMatches(pattern: string, sni: string): boolean {
  return pattern === sni || (pattern.startsWith('*.') && sni.endsWith(pattern.slice(1)));
}

/** Picks the filter chain Envoy would: destination port, then SNI, then transport protocol; else the default chain. */
function selectFilterChain(listener: Body, request: SimulatedRequest): Body | undefined {
  const tls = request.sni !== undefined;
  const scored = asBodies(listener.filterChains).flatMap((chain) => {
    const m = (chain.filterChainMatch ?? {}) as Body;
    let score = 0;
    const port = (m.destinationPort as { value?: number } | undefined)?.value;
    if (port !== undefined) {
      if (port !== request.port) return [];
      score += 100;
    }
    const names = (m.serverNames as string[] | undefined) ?? [];
    if (names.length > 0) {
      if (!request.sni || !names.some((n) => sniMatches(n, request.sni!))) return [];
      score += 10;
    }
    if (m.transportProtocol !== undefined) {
      if (m.transportProtocol !== (tls ? 'tls' : 'raw_buffer')) return [];
      score += 1;
    }
    return [{ chain, score }];
  });
  scored.sort((a, b) => b.score - a.score);
  return scored[0]?.chain ?? (listener.defaultFilterChain as Body | undefined);
}

function selectListener(resources: Resources, request: SimulatedRequest): Body | undefined {
  const listeners = all(resources, LISTENER_TYPE_URL);
  if (request.direction === 'inbound') {
    const local =
      request.destinationAddress &&
      byName(resources, LISTENER_TYPE_URL, `inbound_${request.destinationAddress}_${request.port}`);
    return local || listeners.find((l) => l.name === 'virtualInbound');
  }
  const proxyless = listeners.some((l) => l.apiListener);
  if (proxyless) return listeners.find((l) => l.name === request.authority);
  const named =
    (request.destinationAddress &&
      byName(resources, LISTENER_TYPE_URL, `${request.destinationAddress}_${request.port}`)) ||
    byName(resources, LISTENER_TYPE_URL, `0.0.0.0_${request.port}`);
  return named ?? listeners.find((l) => l.name === 'virtualOutbound');
}

function typedConfigOf(filter: Body | undefined): Body {
  return (filter?.typedConfig ?? {}) as Body;
}

function pickWeighted(clusters: { name: string; weight: number }[], pick: number): string | undefined {
  const total = clusters.reduce((s, c) => s + c.weight, 0);
  if (total <= 0) return undefined;
  let point = pick * total;
  for (const c of clusters) {
    if (point < c.weight) return c.name;
    point -= c.weight;
  }
  return clusters.at(-1)?.name;
}

function healthy(lb: Body): boolean {
  return lb.healthStatus === undefined || lb.healthStatus === 'HEALTHY' || lb.healthStatus === 'UNKNOWN';
}

function endpointOf(
  resources: Resources,
  clusterName: string,
  request: SimulatedRequest,
  result: SimulationResult,
): void {
  const cluster = byName(resources, CLUSTER_TYPE_URL, clusterName);
  if (!cluster) {
    result.error = `cluster ${clusterName} not found`;
    return;
  }
  if (cluster.type === 'ORIGINAL_DST') {
    result.endpoint = `${request.destinationAddress ?? request.authority ?? ''}:${request.port} (original destination)`;
    result.transportSocket = transportFor(cluster, undefined);
    return;
  }
  const edsName =
    ((cluster.edsClusterConfig as Body | undefined)?.serviceName as string | undefined) ?? clusterName;
  const assignment =
    cluster.type === 'EDS'
      ? byName(resources, ENDPOINT_TYPE_URL, edsName)
      : (cluster.loadAssignment as Body | undefined);
  const groups = asBodies(assignment?.endpoints);
  const priorities = [...new Set(groups.map((g) => Number(g.priority ?? 0)))].sort((a, b) => a - b);
  for (const priority of priorities) {
    const lbs = groups
      .filter((g) => Number(g.priority ?? 0) === priority)
      .flatMap((g) => asBodies(g.lbEndpoints))
      .filter(healthy);
    if (lbs.length === 0) continue;
    const chosen = lbs[Math.min(lbs.length - 1, Math.floor((request.pick ?? 0) * lbs.length))]!;
    const socket = ((chosen.endpoint as Body).address as Body).socketAddress as Body;
    result.endpoint = `${socket.address}:${socket.portValue}`;
    result.transportSocket = transportFor(cluster, chosen);
    return;
  }
  result.error = `cluster ${clusterName} has no healthy endpoint`;
}

function routeTo(
  resources: Resources,
  target: Body,
  request: SimulatedRequest,
  result: SimulationResult,
): void {
  if (typeof target.cluster === 'string') result.cluster = target.cluster;
  else if (target.weightedClusters) {
    const clusters = asBodies((target.weightedClusters as Body).clusters).map((c) => ({
      name: String(c.name),
      weight:
        typeof c.weight === 'number'
          ? c.weight
          : Number((c.weight as { value?: number } | undefined)?.value ?? 0),
    }));
    result.weightedClusters = clusters;
    result.cluster = pickWeighted(clusters, request.pick ?? 0);
  }
  if (result.cluster) endpointOf(resources, result.cluster, request, result);
  else result.error = 'no cluster';
}

function walkHttp(
  resources: Resources,
  hcm: Body,
  request: SimulatedRequest,
  result: SimulationResult,
): void {
  const rds = hcm.rds as Body | undefined;
  const routeConfig = rds
    ? byName(resources, ROUTE_TYPE_URL, String(rds.routeConfigName))
    : (hcm.routeConfig as Body | undefined);
  if (!routeConfig) {
    result.error = `route configuration ${rds?.routeConfigName ?? '(inline)'} not found`;
    return;
  }
  result.routeConfig = String(routeConfig.name);
  const authority = request.authority ?? '';
  const virtualHost = selectVirtualHost(asBodies(routeConfig.virtualHosts), authority);
  if (!virtualHost) {
    result.error = `no virtual host for ${authority} (404)`;
    return;
  }
  result.virtualHost = String(virtualHost.name);
  const [path = '/', queryText = ''] = (request.path ?? '/').split('?', 2);
  const headers = new Map(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  headers.set(':method', request.method ?? 'GET');
  headers.set(':authority', authority);
  headers.set(':path', request.path ?? '/');
  headers.set(':scheme', request.sni ? 'https' : 'http');
  const route = asBodies(virtualHost.routes).find((r) =>
    routeMatches((r.match ?? {}) as Body, path, new URLSearchParams(queryText), headers),
  );
  if (!route) {
    result.error = 'no route matched (404)';
    return;
  }
  result.route = route;
  if (route.name !== undefined) result.routeName = String(route.name);
  if (route.redirect) result.redirect = route.redirect as Body;
  else if (route.directResponse)
    result.directResponse = { status: Number((route.directResponse as Body).status) };
  else routeTo(resources, route.route as Body, request, result);
}

/** Walks `request` through `resources` (one proxy's generated config). Never throws. */
export function simulateRequest(resources: Resources, request: SimulatedRequest): SimulationResult {
  const result: SimulationResult = {};
  const listener = selectListener(resources, request);
  if (!listener) return { error: `no listener for port ${request.port}` };
  result.listener = String(listener.name);
  if (listener.apiListener) {
    walkHttp(resources, (listener.apiListener as Body).apiListener as Body, request, result);
    return result;
  }
  const chain = selectFilterChain(listener, request);
  if (!chain) return { ...result, error: 'no filter chain matched' };
  if (chain.name !== undefined) result.filterChain = String(chain.name);
  const filter = asBodies(chain.filters).at(-1);
  const config = typedConfigOf(filter);
  if (String(config['@type']).endsWith('.HttpConnectionManager'))
    walkHttp(resources, config, request, result);
  else routeTo(resources, config, request, result);
  return result;
}
