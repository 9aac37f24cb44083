/**
 * The network filters a listener filter chain ends in: the HTTP connection
 * manager (RDS or inline routes) and the TCP proxy. The HTTP filter list is
 * built by {@link httpFilters}, the one place authn/authz filters are
 * inserted (before fault, CORS and the router).
 */
import type { TranslateContext } from '../context.ts';
import {
  CORS,
  FILTER_NAMES,
  HTTP_CONNECTION_MANAGER,
  HTTP_FAULT,
  ROUTER,
  TCP_PROXY,
} from '../envoy/type-names.ts';
import { adsConfigSource, type Body, typed } from '../envoy/values.ts';
import { httpRbacFilters } from '../security/authorization.ts';
import { jwtAuthnFilter } from '../security/jwt-authn.ts';

/** Which chain an HTTP filter list is for; authn/authz will key on it. */
export interface ChainContext {
  readonly direction: 'inbound' | 'outbound' | 'gateway';
  /** The port the chain serves (workload port inbound, listener port otherwise). */
  readonly port: number;
}

/**
 * Security filters of a chain, in order: RequestAuthentication's
 * `jwt_authn` (validates tokens, puts claims in dynamic metadata), then the
 * AuthorizationPolicy RBAC filters (AUDIT, DENY, ALLOW), which read the
 * peer identity and those claims. Inbound and gateway chains only: policies
 * protect the workload that receives, never the caller's outbound side;
 * proxyless clients get none.
 */
export function securityFilters(ctx: TranslateContext, chain: ChainContext): Body[] {
  if (chain.direction === 'outbound' || ctx.proxyless) return [];
  const jwt = jwtAuthnFilter(ctx);
  return [...(jwt ? [jwt] : []), ...httpRbacFilters(ctx)];
}

/**
 * The HTTP filters of a chain, in order: security filters, fault, CORS, and
 * the router last (Envoy and gRPC both require the router to be last).
 * Proxyless clients get fault and router only.
 */
export function httpFilters(ctx: TranslateContext, chain: ChainContext): Body[] {
  const filters = [
    ...securityFilters(ctx, chain),
    { name: FILTER_NAMES.fault, typedConfig: typed(HTTP_FAULT) },
  ];
  if (!ctx.proxyless) filters.push({ name: FILTER_NAMES.cors, typedConfig: typed(CORS) });
  filters.push({ name: FILTER_NAMES.router, typedConfig: typed(ROUTER) });
  return filters;
}

/** An HttpConnectionManager config fetching its routes over ADS (RDS) or carrying them inline. */
export function httpConnectionManager(
  ctx: TranslateContext,
  chain: ChainContext,
  statPrefix: string,
  routes: { rds: string } | { inline: Body },
): Body {
  const config: Body = { statPrefix, httpFilters: httpFilters(ctx, chain) };
  if ('rds' in routes) config.rds = { configSource: adsConfigSource(), routeConfigName: routes.rds };
  else config.routeConfig = routes.inline;
  if (!ctx.proxyless) {
    config.useRemoteAddress = { value: chain.direction === 'gateway' };
    config.normalizePath = { value: true };
    config.upgradeConfigs = [{ upgradeType: 'websocket' }];
  }
  if (!ctx.proxyless && chain.direction !== 'outbound') {
    // The peer's identity reaches the application in x-forwarded-client-cert;
    // whatever a client sent in that header is replaced, never trusted.
    config.forwardClientCertDetails = 'SANITIZE_SET';
    config.setCurrentClientCertDetails = { subject: { value: true }, uri: true, dns: true };
  }
  return typed(HTTP_CONNECTION_MANAGER, config);
}

/** A network filter entry for an HCM config. */
export function hcmFilter(config: Body): Body {
  return { name: FILTER_NAMES.httpConnectionManager, typedConfig: config };
}

/** A TCP proxy network filter to one cluster, or to weighted clusters. */
export function tcpProxyFilter(
  statPrefix: string,
  target: string | { name: string; weight: number }[],
): Body {
  const config: Body = { statPrefix };
  if (typeof target === 'string') config.cluster = target;
  else config.weightedClusters = { clusters: target.map((t) => ({ name: t.name, weight: t.weight })) };
  return { name: FILTER_NAMES.tcpProxy, typedConfig: typed(TCP_PROXY, config) };
}
