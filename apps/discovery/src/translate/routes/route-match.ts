/**
 * VirtualService HTTPMatchRequest -> Envoy RouteMatch, and the match
 * conditions Istio evaluates at generation time (port, sourceLabels,
 * sourceNamespace, gateways) instead of per request.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest
 */
import type { HTTPMatchRequest, StringMatch } from '@weft/config';
import { labelsMatch } from '../../model/hosts.ts';
import { type Body, stringMatcher } from '../envoy/values.ts';

/** Where a route is being generated: for a sidecar (`mesh`) or a gateway (`namespace/name`), on a port. */
export interface RouteScope {
  /** `mesh` or the gateway as `namespace/name`. */
  readonly gateway: string;
  /** The listener / route configuration port. */
  readonly port: number;
  /** Labels and namespace of the proxy the routes are for. */
  readonly labels: Readonly<Record<string, string>>;
  readonly namespace: string;
}

/** The match fields HTTP, TLS and TCP routes share, all decided at generation time. */
export interface GenerationTimeMatch {
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
}

/**
 * True when a match applies to routes generated for `scope`: its port,
 * source labels, source namespace and gateways (each when set) agree.
 * `vsNamespace` resolves short gateway names.
 */
export function matchApplies(match: GenerationTimeMatch, scope: RouteScope, vsNamespace: string): boolean {
  if (match.port !== undefined && match.port !== scope.port) return false;
  if (match.sourceLabels && !labelsMatch(match.sourceLabels, scope.labels)) return false;
  if (match.sourceNamespace !== undefined && match.sourceNamespace !== scope.namespace) return false;
  if (match.gateways && match.gateways.length > 0) {
    const gateways = match.gateways.map((g) => (g === 'mesh' || g.includes('/') ? g : `${vsNamespace}/${g}`));
    if (!gateways.includes(scope.gateway)) return false;
  }
  return true;
}

function isEmptyMatch(match: StringMatch): boolean {
  return Object.values(match).every((v) => v === '' || v === undefined);
}

/**
 * An Envoy HeaderMatcher for an Istio header StringMatch; an empty match
 * (`{}` or `exact: ""`) means "present", as Istio reads it.
 */
function headerMatcher(name: string, match: StringMatch, invert: boolean): Body {
  const out: Body = { name: name.toLowerCase() };
  if (isEmptyMatch(match)) out.presentMatch = true;
  else out.stringMatch = stringMatcher(match);
  if (invert) out.invertMatch = true;
  return out;
}

function queryMatcher(name: string, match: StringMatch): Body {
  if (isEmptyMatch(match)) return { name, presentMatch: true };
  return { name, stringMatch: stringMatcher(match) };
}

/** The Envoy RouteMatch for an Istio match (undefined -> match every path). */
export function routeMatch(match: HTTPMatchRequest | undefined): Body {
  const out: Body = {};
  const uri = match?.uri;
  if (!uri || isEmptyMatch(uri)) out.prefix = '/';
  else if ('exact' in uri) out.path = uri.exact;
  else if ('prefix' in uri) out.prefix = uri.prefix;
  else out.safeRegex = { regex: uri.regex };
  if (match?.ignoreUriCase) out.caseSensitive = { value: false };
  const headers: Body[] = [];
  for (const [name, value] of Object.entries(match?.headers ?? {}))
    headers.push(headerMatcher(name, value, false));
  for (const [name, value] of Object.entries(match?.withoutHeaders ?? {}))
    headers.push(headerMatcher(name, value, true));
  if (match?.method) headers.push(headerMatcher(':method', match.method, false));
  if (match?.authority) headers.push(headerMatcher(':authority', match.authority, false));
  if (match?.scheme) headers.push(headerMatcher(':scheme', match.scheme, false));
  if (headers.length > 0) out.headers = headers;
  const query = Object.entries(match?.queryParams ?? {}).map(([name, value]) => queryMatcher(name, value));
  if (query.length > 0) out.queryParameters = query;
  return out;
}
