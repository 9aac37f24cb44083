/**
 * VirtualService `tcp` and `tls` routes -> the cluster(s) a TCP proxy
 * forwards to. Matches are evaluated at generation time (port, source
 * labels, gateways); the first route that applies wins, as in Istio.
 */
import type { RouteDestination } from '@weft/config';
import type { IndexedVirtualService } from '../../model/push-context.ts';
import type { TranslateContext } from '../context.ts';
import { destinationCluster } from './route-action.ts';
import { matchApplies, type RouteScope } from './route-match.ts';

/** Where a TCP proxy sends connections: one cluster, or weighted clusters. */
export type TcpTarget = string | { name: string; weight: number }[];

/**
 * The TCP target of route destinations: one cluster, or clusters with
 * relative weights. Zero-weight destinations are dropped (Envoy's TCP proxy
 * requires weights >= 1); what is left of one destination is a plain cluster.
 */
export function tcpTarget(
  ctx: TranslateContext,
  destinations: readonly RouteDestination[],
  vsNamespace: string,
  port: number | undefined,
): TcpTarget | undefined {
  const scope = { vsNamespace, port };
  if (destinations.length === 1) return destinationCluster(ctx, destinations[0]!.destination, scope);
  const weighted = destinations.filter((d) => (d.weight ?? 0) > 0);
  if (weighted.length === 0) return undefined;
  if (weighted.length === 1) return destinationCluster(ctx, weighted[0]!.destination, scope);
  return weighted.map((d) => ({
    name: destinationCluster(ctx, d.destination, scope),
    weight: d.weight ?? 0,
  }));
}

/** The target of the first `tcp` route of `vs` that applies in `scope`, if any. */
export function virtualServiceTcpTarget(
  ctx: TranslateContext,
  vs: IndexedVirtualService,
  scope: RouteScope,
): TcpTarget | undefined {
  const vsNamespace = vs.service.metadata.namespace;
  for (const route of vs.service.spec.tcp ?? []) {
    const applies =
      !route.match ||
      route.match.length === 0 ||
      route.match.some((m) => matchApplies(m, scope, vsNamespace));
    if (applies)
      return tcpTarget(
        ctx,
        route.route ?? [],
        vsNamespace,
        scope.gateway === 'mesh' ? scope.port : undefined,
      );
  }
  return undefined;
}

/** The `tls` routes of `vs` that apply in `scope`: SNI hosts and target per route, in order. */
export function virtualServiceTlsRoutes(
  ctx: TranslateContext,
  vs: IndexedVirtualService,
  scope: RouteScope,
): { sniHosts: string[]; target: TcpTarget }[] {
  const vsNamespace = vs.service.metadata.namespace;
  const out: { sniHosts: string[]; target: TcpTarget }[] = [];
  for (const route of vs.service.spec.tls ?? []) {
    const matches = route.match.filter((m) => matchApplies(m, scope, vsNamespace));
    const target = tcpTarget(ctx, route.route ?? [], vsNamespace, undefined);
    if (!target) continue;
    for (const match of matches) out.push({ sniHosts: match.sniHosts.map((h) => h.toLowerCase()), target });
  }
  return out;
}
