/**
 * RouteConfiguration -> immutable routing table: virtual hosts indexed by
 * domain (exact map, suffix and prefix wildcard lists sorted longest first,
 * `*`), routes with precompiled matchers. See
 * envoy/config/route/v3/route.proto and route_components.proto.
 */
import {
  compileHeaderMutation,
  compilePerFilterConfig,
  type HeaderMutation,
  type PerFilterConfig,
} from './http-filter-config.ts';
import { compileHeaderMatcher, compileQueryMatcher, type HeaderMatch, type QueryMatch } from './matchers.ts';
import {
  at,
  type Body,
  type Compiled,
  compileRegex,
  ProblemList,
  readBodies,
  readBody,
  readFraction,
  readString,
  readStrings,
  readWrappedBool,
} from './problems.ts';
import {
  compileDirectResponse,
  compileForwardAction,
  compileRedirect,
  compileRetryPolicy,
  type RetryPolicyConfig,
  type RouteActionConfig,
} from './route-action-config.ts';

export interface RouteMatchConfig {
  readonly kind: 'prefix' | 'path' | 'regex' | 'pathSeparatedPrefix';
  /** The prefix or path (lowercased when not case sensitive). */
  readonly value: string;
  readonly regex: RegExp | undefined;
  readonly caseSensitive: boolean;
  readonly headers: readonly HeaderMatch[];
  readonly query: readonly QueryMatch[];
  /** Only requests with `content-type: application/grpc*`. */
  readonly grpc: boolean;
  /** Probability the route matches (runtimeFraction.defaultValue); 1 when unset. */
  readonly fraction: number;
}

export interface RouteEntryConfig {
  readonly name: string;
  readonly match: RouteMatchConfig;
  readonly action: RouteActionConfig;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  /** The route's typedPerFilterConfig, falling back to the virtual host's per filter. */
  readonly filters: PerFilterConfig;
  /** The route's retry policy, else the virtual host's. */
  readonly retry: RetryPolicyConfig | undefined;
}

export interface VirtualHostConfig {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly RouteEntryConfig[];
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
}

/** A compiled RouteConfiguration with its domain index. */
export interface RouteConfig {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHostConfig[];
  readonly exactDomains: ReadonlyMap<string, VirtualHostConfig>;
  /** `*.example.com` entries as `.example.com` (or `-bar.com` for `*-bar.com`), longest first. */
  readonly suffixDomains: readonly { readonly suffix: string; readonly virtualHost: VirtualHostConfig }[];
  /** `foo.*` entries as `foo.`, longest first. */
  readonly prefixDomains: readonly { readonly prefix: string; readonly virtualHost: VirtualHostConfig }[];
  readonly anyDomain: VirtualHostConfig | undefined;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
}

/** Compiles a RouteConfiguration body (also used for an HCM's inline routeConfig). */
export function compileRouteConfiguration(body: Body, pathPrefix = ''): Compiled<RouteConfig> {
  const problems = new ProblemList();
  const name = readString(body, 'name', pathPrefix, problems) ?? '';
  const virtualHosts: VirtualHostConfig[] = [];
  const exactDomains = new Map<string, VirtualHostConfig>();
  const suffixDomains: Array<{ suffix: string; virtualHost: VirtualHostConfig }> = [];
  const prefixDomains: Array<{ prefix: string; virtualHost: VirtualHostConfig }> = [];
  let anyDomain: VirtualHostConfig | undefined;
  const allDomains = new Set<string>();
  for (const { body: vh, path } of readBodies(body, 'virtualHosts', pathPrefix, problems)) {
    const virtualHost = compileVirtualHost(vh, path, problems);
    virtualHosts.push(virtualHost);
    virtualHost.domains.forEach((domain, i) => {
      const domainPath = at(at(path, 'domains'), i);
      if (allDomains.has(domain)) {
        problems.add(domainPath, `domain ${JSON.stringify(domain)} appears in more than one virtual host`);
        return;
      }
      allDomains.add(domain);
      if (domain === '*') anyDomain = virtualHost;
      else if (domain.startsWith('*')) suffixDomains.push({ suffix: domain.slice(1), virtualHost });
      else if (domain.endsWith('*')) prefixDomains.push({ prefix: domain.slice(0, -1), virtualHost });
      else if (domain.includes('*'))
        problems.add(domainPath, 'a wildcard may only be the first or last character');
      else exactDomains.set(domain, virtualHost);
    });
  }
  suffixDomains.sort((a, b) => b.suffix.length - a.suffix.length);
  prefixDomains.sort((a, b) => b.prefix.length - a.prefix.length);
  return problems.result({
    name,
    virtualHosts,
    exactDomains,
    suffixDomains,
    prefixDomains,
    anyDomain,
    requestHeaders: compileHeaderMutation(body, 'request', pathPrefix, problems),
    responseHeaders: compileHeaderMutation(body, 'response', pathPrefix, problems),
  });
}

function compileVirtualHost(body: Body, path: string, problems: ProblemList): VirtualHostConfig {
  const name = readString(body, 'name', path, problems) ?? '';
  if (!name) problems.add(at(path, 'name'), 'is required');
  const domains = readStrings(body, 'domains', path, problems).map((d) => d.toLowerCase());
  if (domains.length === 0) problems.add(at(path, 'domains'), 'must not be empty');
  const vhFilters = compilePerFilterConfig(body, path, problems);
  const retryBody = readBody(body, 'retryPolicy', path, problems);
  const vhRetry = retryBody ? compileRetryPolicy(retryBody, at(path, 'retryPolicy'), problems) : undefined;
  const routes: RouteEntryConfig[] = [];
  for (const { body: r, path: rPath } of readBodies(body, 'routes', path, problems)) {
    const route = compileRoute(r, rPath, problems, vhFilters, vhRetry);
    if (route) routes.push(route);
  }
  return {
    name,
    domains,
    routes,
    requestHeaders: compileHeaderMutation(body, 'request', path, problems),
    responseHeaders: compileHeaderMutation(body, 'response', path, problems),
  };
}

function compileRoute(
  body: Body,
  path: string,
  problems: ProblemList,
  vhFilters: PerFilterConfig,
  vhRetry: RetryPolicyConfig | undefined,
): RouteEntryConfig | undefined {
  const matchBody = readBody(body, 'match', path, problems);
  if (!matchBody) {
    problems.add(at(path, 'match'), 'is required');
    return undefined;
  }
  const match = compileRouteMatch(matchBody, at(path, 'match'), problems);
  let action: RouteActionConfig | undefined;
  const forward = readBody(body, 'route', path, problems);
  const redirect = readBody(body, 'redirect', path, problems);
  const direct = readBody(body, 'directResponse', path, problems);
  if (forward) action = compileForwardAction(forward, at(path, 'route'), problems);
  else if (redirect) action = compileRedirect(redirect, at(path, 'redirect'), problems);
  else if (direct) action = compileDirectResponse(direct, at(path, 'directResponse'), problems);
  else problems.add(path, 'one of route, redirect or directResponse is required');
  if (!match || !action) return undefined;
  const filters = compilePerFilterConfig(body, path, problems);
  return {
    name: readString(body, 'name', path, problems) ?? '',
    match,
    action,
    requestHeaders: compileHeaderMutation(body, 'request', path, problems),
    responseHeaders: compileHeaderMutation(body, 'response', path, problems),
    filters: { fault: filters.fault ?? vhFilters.fault, cors: filters.cors ?? vhFilters.cors },
    retry: (action.kind === 'forward' ? action.retry : undefined) ?? vhRetry,
  };
}

function compileRouteMatch(body: Body, path: string, problems: ProblemList): RouteMatchConfig | undefined {
  const caseSensitive = readWrappedBool(body, 'caseSensitive', path, problems) ?? true;
  const norm = (s: string): string => (caseSensitive ? s : s.toLowerCase());
  let kind: RouteMatchConfig['kind'] | undefined;
  let value = '';
  let regex: RegExp | undefined;
  const prefix = readString(body, 'prefix', path, problems);
  const exact = readString(body, 'path', path, problems);
  const separated = readString(body, 'pathSeparatedPrefix', path, problems);
  const safeRegex = readBody(body, 'safeRegex', path, problems);
  if (prefix !== undefined) {
    kind = 'prefix';
    value = norm(prefix);
  } else if (exact !== undefined) {
    kind = 'path';
    value = norm(exact);
  } else if (separated !== undefined) {
    kind = 'pathSeparatedPrefix';
    value = norm(separated);
    if (separated.endsWith('/') || /[?#]/.test(separated)) {
      problems.add(at(path, 'pathSeparatedPrefix'), 'must not end with / or contain ? or #');
    }
  } else if (safeRegex) {
    kind = 'regex';
    const pattern = readString(safeRegex, 'regex', at(path, 'safeRegex'), problems);
    if (pattern === undefined) problems.add(at(path, 'safeRegex.regex'), 'is required');
    else regex = compileRegex(pattern, at(path, 'safeRegex.regex'), problems);
    if (regex && !caseSensitive) regex = new RegExp(regex.source, 'i');
  } else if (body.connectMatcher) {
    problems.add(at(path, 'connectMatcher'), 'CONNECT is not supported yet');
  } else if (body.pathMatchPolicy) {
    problems.add(at(path, 'pathMatchPolicy'), 'is not supported yet');
  } else {
    problems.add(path, 'one of prefix, path, safeRegex or pathSeparatedPrefix is required');
  }
  const headers: HeaderMatch[] = [];
  for (const { body: h, path: hPath } of readBodies(body, 'headers', path, problems)) {
    const m = compileHeaderMatcher(h, hPath, problems);
    if (m) headers.push(m);
  }
  const query: QueryMatch[] = [];
  for (const { body: q, path: qPath } of readBodies(body, 'queryParameters', path, problems)) {
    const m = compileQueryMatcher(q, qPath, problems);
    if (m) query.push(m);
  }
  const runtime = readBody(body, 'runtimeFraction', path, problems);
  const fraction = runtime
    ? (readFraction(runtime, 'defaultValue', at(path, 'runtimeFraction'), problems) ?? 1)
    : 1;
  if (!kind) return undefined;
  return { kind, value, regex, caseSensitive, headers, query, grpc: Boolean(body.grpc), fraction };
}
