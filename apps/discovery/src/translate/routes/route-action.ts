/**
 * The parts of an Envoy route an Istio HTTPRoute sets besides its match:
 * destinations (cluster or weighted clusters), retries, timeouts, fault,
 * mirror, rewrite, redirect, direct response, header manipulation, CORS and
 * consistent-hash policies.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute
 */
import type {
  CorsPolicy,
  Destination,
  HeaderOperations,
  Headers,
  HTTPFaultInjection,
  HTTPRedirect,
  HTTPRetry,
  HTTPRoute,
} from '@weft/config';
import { resolveHost } from '../../model/hosts.ts';
import { effectivePolicy } from '../clusters/traffic-policy.ts';
import type { TranslateContext } from '../context.ts';
import { CORS_POLICY, FILTER_NAMES, HTTP_FAULT } from '../envoy/type-names.ts';
import {
  type Body,
  duration,
  fractionalPercent,
  parseDurationMs,
  stringMatcher,
  typed,
} from '../envoy/values.ts';
import { BLACKHOLE_CLUSTER, clusterName } from '../naming.ts';

/** Istio's retryOn when a VirtualService sets none (and its default policy). */
export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
/** Istio's default number of retries. */
export const DEFAULT_RETRY_ATTEMPTS = 2;

const GRPC_CODES: Record<string, number> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

const REDIRECT_CODES: Record<number, string> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

/** Where a route is being built: the VirtualService namespace (for short names) and the listener port. */
export interface ActionScope {
  readonly vsNamespace: string;
  /** The route configuration's port; a destination without a port uses it when its service has it. */
  readonly port: number | undefined;
}

/**
 * The cluster a Destination names: `outbound|PORT|SUBSET|HOST`. The port is
 * the destination's, else the service's only port, else the scope's port.
 * Unknown hosts still get Istio's name (the cluster will be missing, as in
 * Istio) plus a warning; a port that cannot be decided sends traffic to
 * BlackHoleCluster with a warning.
 */
export function destinationCluster(
  ctx: TranslateContext,
  destination: Destination,
  scope: ActionScope,
): string {
  const host = resolveHost(destination.host, scope.vsNamespace, ctx.push.mesh.domainSuffix);
  const service = ctx.service(host);
  let port = destination.port?.number;
  if (port === undefined && service?.ports.length === 1) port = service.ports[0]!.number;
  if (
    port === undefined &&
    scope.port !== undefined &&
    (!service || service.ports.some((p) => p.number === scope.port))
  ) {
    port = scope.port;
  }
  if (port === undefined) {
    ctx.warn(
      `destination ${host}: no port given and the service has several; routed to ${BLACKHOLE_CLUSTER}`,
    );
    return BLACKHOLE_CLUSTER;
  }
  if (!service)
    ctx.warn(
      `destination ${host}: no such service visible to ${ctx.proxy.namespace}; the cluster will be missing`,
    );
  return clusterName('outbound', port, destination.subset ?? '', host);
}

function ms(ctx: TranslateContext, text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const value = parseDurationMs(text);
  if (value === undefined) ctx.warn(`${field}: "${text}" is not a duration; ignored`);
  return value;
}

/** Header operations -> HeaderValueOption list and names to remove. */
export function headerOptions(ops: HeaderOperations | undefined): { add: Body[]; remove: string[] } {
  const add: Body[] = [];
  for (const [key, value] of Object.entries(ops?.set ?? {})) {
    add.push({ header: { key, value }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  }
  for (const [key, value] of Object.entries(ops?.add ?? {})) {
    add.push({ header: { key, value }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' });
  }
  return { add, remove: [...(ops?.remove ?? [])] };
}

/** Sets request/response header manipulation fields on a Route or ClusterWeight. */
export function applyHeaders(target: Body, headers: Headers | undefined): void {
  const request = headerOptions(headers?.request);
  const response = headerOptions(headers?.response);
  if (request.add.length > 0)
    target.requestHeadersToAdd = [...((target.requestHeadersToAdd as Body[]) ?? []), ...request.add];
  if (request.remove.length > 0)
    target.requestHeadersToRemove = [
      ...((target.requestHeadersToRemove as string[]) ?? []),
      ...request.remove,
    ];
  if (response.add.length > 0)
    target.responseHeadersToAdd = [...((target.responseHeadersToAdd as Body[]) ?? []), ...response.add];
  if (response.remove.length > 0)
    target.responseHeadersToRemove = [
      ...((target.responseHeadersToRemove as string[]) ?? []),
      ...response.remove,
    ];
}

/**
 * Retry policy: Istio's default (2 attempts on connect-failure,
 * refused-stream, unavailable, cancelled, 503) when `retries` is unset,
 * none when attempts is 0. Numeric retryOn entries become retriable status
 * codes. Proxyless clients get no default policy and a backoff (gRPC needs one).
 */
export function retryPolicy(ctx: TranslateContext, retries: HTTPRetry | undefined): Body | undefined {
  if (retries?.attempts === 0) return undefined;
  if (!retries && ctx.proxyless) return undefined;
  const tokens = (retries?.retryOn ?? DEFAULT_RETRY_ON)
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const codes = tokens.filter((t) => /^\d+$/.test(t)).map(Number);
  const on = tokens.filter((t) => !/^\d+$/.test(t));
  if (codes.length > 0 && !on.includes('retriable-status-codes')) on.push('retriable-status-codes');
  if (!retries && codes.length === 0) codes.push(503);
  const policy: Body = {
    retryOn: on.join(','),
    numRetries: { value: retries?.attempts ?? DEFAULT_RETRY_ATTEMPTS },
  };
  if (codes.length > 0) policy.retriableStatusCodes = codes;
  const perTry = ms(ctx, retries?.perTryTimeout, 'retries.perTryTimeout');
  if (perTry !== undefined) policy.perTryTimeout = duration(perTry);
  if (ctx.proxyless) policy.retryBackOff = { baseInterval: duration(25), maxInterval: duration(250) };
  else policy.hostSelectionRetryMaxAttempts = 5;
  return policy;
}

/** Fault injection as the per-route config of Envoy's fault filter. */
export function faultConfig(ctx: TranslateContext, fault: HTTPFaultInjection): Body | undefined {
  const out: Body = {};
  if (fault.delay) {
    const delay = ms(ctx, fault.delay.fixedDelay, 'fault.delay.fixedDelay');
    if (delay !== undefined) {
      out.delay = {
        fixedDelay: duration(delay),
        percentage: fractionalPercent(fault.delay.percentage?.value ?? fault.delay.percent ?? 100),
      };
    }
  }
  if (fault.abort) {
    const abort: Body = { percentage: fractionalPercent(fault.abort.percentage?.value ?? 100) };
    if (fault.abort.httpStatus !== undefined) abort.httpStatus = fault.abort.httpStatus;
    else if (fault.abort.grpcStatus !== undefined && GRPC_CODES[fault.abort.grpcStatus] !== undefined)
      abort.grpcStatus = GRPC_CODES[fault.abort.grpcStatus];
    else {
      ctx.warn(`fault.abort: only httpStatus and grpcStatus are supported; abort ignored`);
      return out.delay ? typed(HTTP_FAULT, out) : undefined;
    }
    out.abort = abort;
  }
  return Object.keys(out).length > 0 ? typed(HTTP_FAULT, out) : undefined;
}

/** The Envoy redirect action for an Istio HTTPRedirect. */
export function redirectAction(redirect: HTTPRedirect): Body {
  const out: Body = {};
  if (redirect.uri) out.pathRedirect = redirect.uri;
  if (redirect.authority) out.hostRedirect = redirect.authority;
  if (redirect.port) out.portRedirect = redirect.port;
  if (redirect.scheme) out.schemeRedirect = redirect.scheme;
  out.responseCode = REDIRECT_CODES[redirect.redirectCode ?? 301] ?? 'MOVED_PERMANENTLY';
  return out;
}

/** CORS as the per-route config of Envoy's CORS filter. */
export function corsConfig(ctx: TranslateContext, cors: CorsPolicy): Body {
  const origins = [
    ...(cors.allowOrigins ?? []).map((m) => stringMatcher(m)),
    ...(cors.allowOrigin ?? []).map((o) => ({ exact: o })),
  ];
  const out: Body = { allowOriginStringMatch: origins };
  if (cors.allowMethods?.length) out.allowMethods = cors.allowMethods.join(',');
  if (cors.allowHeaders?.length) out.allowHeaders = cors.allowHeaders.join(',');
  if (cors.exposeHeaders?.length) out.exposeHeaders = cors.exposeHeaders.join(',');
  const maxAge = ms(ctx, cors.maxAge, 'corsPolicy.maxAge');
  if (maxAge !== undefined) out.maxAge = String(Math.floor(maxAge / 1000));
  if (cors.allowCredentials !== undefined) out.allowCredentials = { value: cors.allowCredentials };
  return typed(CORS_POLICY, out);
}

/** Consistent-hash route hash policy from the destination's DestinationRule, if it asks for one. */
export function hashPolicy(
  ctx: TranslateContext,
  destination: Destination,
  scope: ActionScope,
  port: number | undefined,
): Body[] | undefined {
  const host = resolveHost(destination.host, scope.vsNamespace, ctx.push.mesh.domainSuffix);
  const rule = ctx.push.destinationRule(host, ctx.proxy.namespace);
  const subset = rule?.spec.subsets?.find((s) => s.name === destination.subset);
  const hash = effectivePolicy(rule, subset, port ?? 0).loadBalancer?.consistentHash;
  if (!hash) return undefined;
  if (hash.httpHeaderName) return [{ header: { headerName: hash.httpHeaderName } }];
  if (hash.httpCookie) {
    const cookie: Body = { name: hash.httpCookie.name };
    if (hash.httpCookie.path) cookie.path = hash.httpCookie.path;
    const ttl = ms(ctx, hash.httpCookie.ttl, 'consistentHash.httpCookie.ttl');
    if (ttl !== undefined) cookie.ttl = duration(ttl);
    return [{ cookie }];
  }
  if (hash.useSourceIp) return [{ connectionProperties: { sourceIp: true } }];
  if (hash.httpQueryParameterName) return [{ queryParameter: { name: hash.httpQueryParameterName } }];
  return undefined;
}

/** Mirror policies from `mirror` + `mirrorPercentage` / `mirrorPercent`, and `mirrors`. */
export function mirrorPolicies(ctx: TranslateContext, route: HTTPRoute, scope: ActionScope): Body[] {
  const out: Body[] = [];
  if (route.mirror) {
    const percent = route.mirrorPercentage?.value ?? route.mirrorPercent ?? 100;
    out.push({
      cluster: destinationCluster(ctx, route.mirror, scope),
      runtimeFraction: { defaultValue: fractionalPercent(percent) },
    });
  }
  for (const mirror of route.mirrors ?? []) {
    const percent = mirror.percentage?.value ?? 100;
    out.push({
      cluster: destinationCluster(ctx, mirror.destination, scope),
      runtimeFraction: { defaultValue: fractionalPercent(percent) },
    });
  }
  return out;
}

/** Per-filter config names for the fault and CORS filters. */
export const PER_FILTER = { fault: FILTER_NAMES.fault, cors: FILTER_NAMES.cors } as const;
