/**
 * One VirtualService HTTPRoute -> Envoy routes (one per applicable match, in
 * order), and the default route Istio generates when no VirtualService
 * applies.
 */
import type { HTTPRoute, HTTPRouteDestination } from '@weft/config';
import type { IndexedVirtualService } from '../../model/push-context.ts';
import type { TranslateContext } from '../context.ts';
import { type Body, duration, parseDurationMs } from '../envoy/values.ts';
import { clusterName } from '../naming.ts';
import {
  type ActionScope,
  applyHeaders,
  corsConfig,
  destinationCluster,
  faultConfig,
  hashPolicy,
  mirrorPolicies,
  PER_FILTER,
  redirectAction,
  retryPolicy,
} from './route-action.ts';
import { matchApplies, type RouteScope, routeMatch } from './route-match.ts';

/** Istio's route metadata: which VirtualService a route came from. */
function istioMetadata(vs: IndexedVirtualService): Body {
  const { namespace, name } = vs.service.metadata;
  return {
    filterMetadata: {
      istio: { config: `/apis/networking.istio.io/v1/namespaces/${namespace}/virtual-service/${name}` },
    },
  };
}

function weightedClusters(
  ctx: TranslateContext,
  destinations: HTTPRouteDestination[],
  scope: ActionScope,
): Body {
  return {
    clusters: destinations.map((d) => {
      const weight: Body = {
        name: destinationCluster(ctx, d.destination, scope),
        weight: { value: d.weight ?? 0 },
      };
      applyHeaders(weight, d.headers);
      return weight;
    }),
  };
}

/** The RouteAction (`route` field) for a forwarding HTTPRoute. */
function forwardAction(ctx: TranslateContext, http: HTTPRoute, scope: ActionScope): Body {
  const destinations = http.route ?? [];
  const action: Body = {};
  if (destinations.length === 1)
    action.cluster = destinationCluster(ctx, destinations[0]!.destination, scope);
  else action.weightedClusters = weightedClusters(ctx, destinations, scope);
  const timeout = http.timeout === undefined ? 0 : parseDurationMs(http.timeout);
  if (timeout === undefined) ctx.warn(`timeout: "${http.timeout}" is not a duration; ignored`);
  if (!ctx.proxyless || http.timeout !== undefined) action.timeout = duration(timeout ?? 0);
  const retries = retryPolicy(ctx, http.retries);
  if (retries) action.retryPolicy = retries;
  const mirrors = mirrorPolicies(ctx, http, scope);
  if (mirrors.length > 0 && ctx.proxyless) ctx.warn('mirror is not supported for proxyless gRPC; not sent');
  else if (mirrors.length > 0) action.requestMirrorPolicies = mirrors;
  if (http.rewrite?.uri !== undefined) action.prefixRewrite = http.rewrite.uri;
  if (http.rewrite?.uriRegexRewrite?.match !== undefined) {
    action.regexRewrite = {
      pattern: { regex: http.rewrite.uriRegexRewrite.match },
      substitution: http.rewrite.uriRegexRewrite.rewrite ?? '',
    };
  }
  if (http.rewrite?.authority) action.hostRewriteLiteral = http.rewrite.authority;
  const first = destinations[0];
  const hash = first
    ? hashPolicy(ctx, first.destination, scope, first.destination.port?.number ?? scope.port)
    : undefined;
  if (hash) action.hashPolicy = hash;
  return action;
}

/** Name of the n-th Envoy route of an HTTPRoute: Istio joins route and match names with a dot. */
function routeName(http: HTTPRoute, matchName: string | undefined): string | undefined {
  if (http.name && matchName) return `${http.name}.${matchName}`;
  return http.name ?? matchName;
}

/**
 * Envoy routes for one HTTPRoute in `scope`: one per match that applies (or
 * one catch-all when the route has no matches). A route whose matches all
 * name other ports/gateways/sources yields nothing. Redirect and direct
 * responses are not sent to proxyless clients (gRPC rejects them).
 */
export function translateHttpRoute(
  ctx: TranslateContext,
  vs: IndexedVirtualService,
  http: HTTPRoute,
  scope: RouteScope,
): Body[] {
  const vsNamespace = vs.service.metadata.namespace;
  const matches =
    http.match && http.match.length > 0
      ? http.match.filter((m) => matchApplies(m, scope, vsNamespace))
      : [undefined];
  if (matches.length === 0) return [];
  if (!http.redirect && !http.directResponse && (http.route ?? []).length === 0) {
    const what = http.delegate
      ? 'delegate is not supported yet'
      : 'it has no destination, redirect or directResponse';
    ctx.warn(
      `VirtualService ${vsNamespace}/${vs.service.metadata.name}: route ${http.name ?? '(unnamed)'} skipped: ${what}`,
    );
    return [];
  }
  if (ctx.proxyless && (http.redirect || http.directResponse)) {
    ctx.warn(
      `VirtualService ${vsNamespace}/${vs.service.metadata.name}: redirect and directResponse are not supported for proxyless gRPC; route skipped`,
    );
    return [];
  }
  const actionScope: ActionScope = { vsNamespace, port: scope.gateway === 'mesh' ? scope.port : undefined };
  return matches.map((match) => {
    const route: Body = {};
    const name = routeName(http, match?.name);
    if (name) route.name = name;
    route.match = routeMatch(match);
    if (http.redirect) route.redirect = redirectAction(http.redirect);
    else if (http.directResponse) {
      const direct: Body = { status: http.directResponse.status };
      if (http.directResponse.body?.string !== undefined)
        direct.body = { inlineString: http.directResponse.body.string };
      route.directResponse = direct;
    } else route.route = forwardAction(ctx, http, actionScope);
    if (!ctx.proxyless) route.metadata = istioMetadata(vs);
    applyHeaders(route, http.headers);
    if (http.route?.length === 1) applyHeaders(route, http.route[0]!.headers);
    const perFilter: Body = {};
    if (http.fault) {
      const fault = faultConfig(ctx, http.fault);
      if (fault) perFilter[PER_FILTER.fault] = fault;
    }
    if (http.corsPolicy && ctx.proxyless)
      ctx.warn('corsPolicy is not supported for proxyless gRPC; not sent');
    else if (http.corsPolicy) perFilter[PER_FILTER.cors] = corsConfig(ctx, http.corsPolicy);
    if (Object.keys(perFilter).length > 0) route.typedPerFilterConfig = perFilter;
    return route;
  });
}

/** Istio's default route to a service port when no VirtualService applies (with the DestinationRule's hash policy). */
export function defaultRoute(ctx: TranslateContext, hostname: string, port: number): Body {
  const action: Body = { cluster: clusterName('outbound', port, '', hostname) };
  if (!ctx.proxyless) action.timeout = duration(0);
  const retries = retryPolicy(ctx, undefined);
  if (retries) action.retryPolicy = retries;
  const hash = hashPolicy(ctx, { host: hostname }, { vsNamespace: ctx.proxy.namespace, port }, port);
  if (hash) action.hashPolicy = hash;
  return { name: 'default', match: { prefix: '/' }, route: action };
}

/** Envoy routes of every HTTPRoute of one VirtualService in `scope`, in order. */
export function virtualServiceRoutes(
  ctx: TranslateContext,
  vs: IndexedVirtualService,
  scope: RouteScope,
): Body[] {
  return (vs.service.spec.http ?? []).flatMap((http) => translateHttpRoute(ctx, vs, http, scope));
}
