/**
 * Sidecar outbound HTTP route configurations, one per port (named by the
 * port, e.g. `9080`): a virtual host per service on that port with routes
 * from the VirtualService that covers it (or Istio's default route), and a
 * catch-all virtual host that passes unknown hosts through (ALLOW_ANY) or
 * answers 502 (REGISTRY_ONLY).
 */
import type { Service } from '@weft/config';
import { hostCovers } from '../../model/hosts.ts';
import { type IndexedVirtualService, MESH_GATEWAY } from '../../model/push-context.ts';
import { isHttpProtocol } from '../clusters/traffic-policy.ts';
import type { TranslateContext } from '../context.ts';
import type { Body } from '../envoy/values.ts';
import { outboundRouteName, PASSTHROUGH_CLUSTER, virtualHostName } from '../naming.ts';
import { defaultRoute, virtualServiceRoutes } from './http-routes.ts';
import type { RouteScope } from './route-match.ts';

/**
 * The domains Istio gives a service's virtual host: the FQDN and, for
 * Kubernetes-style names (`NAME.NS.svc.SUFFIX`), the shorter forms
 * `NAME.NS.svc` and `NAME.NS` (plus `NAME` from the same namespace), each
 * also with `:PORT`; then the service's VIPs.
 */
export function serviceDomains(
  service: Service,
  port: number,
  proxyNamespace: string,
  domainSuffix: string,
): string[] {
  const names = [service.hostname];
  const suffix = `.svc.${domainSuffix}`;
  if (service.hostname.endsWith(suffix)) {
    const [name, namespace] = service.hostname.slice(0, -suffix.length).split('.');
    if (name && namespace) {
      names.push(`${name}.${namespace}.svc`, `${name}.${namespace}`);
      if (namespace === proxyNamespace) names.push(name);
    }
  }
  names.push(...service.addresses.filter((a) => !a.includes('/')));
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/**
 * The mesh VirtualService for a host: an exact host entry wins over a
 * wildcard; ties go to the first by namespace/name.
 */
export function virtualServiceFor(
  candidates: readonly IndexedVirtualService[],
  hostname: string,
): IndexedVirtualService | undefined {
  return (
    candidates.find((vs) => vs.hosts.includes(hostname)) ??
    candidates.find((vs) => vs.hosts.some((h) => hostCovers(h, hostname)))
  );
}

/** The route scope of a sidecar (or proxyless client) on `port`. */
export function meshRouteScope(ctx: TranslateContext, port: number): RouteScope {
  return { gateway: MESH_GATEWAY, port, labels: ctx.proxy.labels, namespace: ctx.proxy.namespace };
}

/** The mesh-bound VirtualService covering `hostname` that the proxy can see, if any. */
export function meshVirtualService(
  ctx: TranslateContext,
  hostname: string,
): IndexedVirtualService | undefined {
  return virtualServiceFor(ctx.push.virtualServicesFor(MESH_GATEWAY, ctx.proxy.namespace), hostname);
}

/** Adds `domains` not yet used in the route configuration; warns about clashes (Envoy rejects duplicates). */
export function claimDomains(
  ctx: TranslateContext,
  used: Set<string>,
  domains: string[],
  owner: string,
): string[] {
  const out: string[] = [];
  for (const domain of domains) {
    if (used.has(domain)) {
      ctx.warn(
        `virtual host ${owner}: domain ${domain} is already used in the same route configuration; dropped`,
      );
      continue;
    }
    used.add(domain);
    out.push(domain);
  }
  return out;
}

/** The catch-all virtual host for unknown hosts, by outbound traffic policy. */
export function catchAllVirtualHost(ctx: TranslateContext): Body {
  if (ctx.outboundTrafficPolicy === 'REGISTRY_ONLY') {
    return {
      name: 'block_all',
      domains: ['*'],
      routes: [{ name: 'block_all', match: { prefix: '/' }, directResponse: { status: 502 } }],
    };
  }
  return {
    name: 'allow_any',
    domains: ['*'],
    routes: [
      {
        name: 'allow_any',
        match: { prefix: '/' },
        route: { cluster: PASSTHROUGH_CLUSTER, timeout: { seconds: 0 } },
      },
    ],
  };
}

/** The HTTP ports of the proxy's visible services, ascending. */
export function httpPorts(ctx: TranslateContext): number[] {
  const ports = new Set<number>();
  for (const service of ctx.services)
    for (const p of service.ports) if (isHttpProtocol(p.protocol)) ports.add(p.number);
  return [...ports].sort((a, b) => a - b);
}

/** The virtual host of one service port: VirtualService routes, or the default route. */
export function serviceVirtualHost(
  ctx: TranslateContext,
  service: Service,
  port: number,
  domains: string[],
): Body {
  const scope = meshRouteScope(ctx, port);
  const vs = meshVirtualService(ctx, service.hostname);
  const routes = vs ? virtualServiceRoutes(ctx, vs, scope) : [];
  return {
    name: virtualHostName(service.hostname, port),
    domains,
    routes: vs && routes.length > 0 ? routes : [defaultRoute(ctx, service.hostname, port)],
  };
}

/** Every sidecar outbound RouteConfiguration (one per HTTP port). */
export function buildOutboundRouteConfigurations(ctx: TranslateContext): Body[] {
  return httpPorts(ctx).map((port) => {
    const used = new Set<string>();
    const virtualHosts: Body[] = [];
    for (const service of ctx.services) {
      const servicePort = service.ports.find((p) => p.number === port);
      if (!servicePort || !isHttpProtocol(servicePort.protocol)) continue;
      const domains = claimDomains(
        ctx,
        used,
        serviceDomains(service, port, ctx.proxy.namespace, ctx.push.mesh.domainSuffix),
        virtualHostName(service.hostname, port),
      );
      if (domains.length === 0) continue;
      virtualHosts.push(serviceVirtualHost(ctx, service, port, domains));
    }
    // A service whose host is `*` already claimed the catch-all domain.
    if (!used.has('*')) virtualHosts.push(catchAllVirtualHost(ctx));
    return { name: outboundRouteName(port), virtualHosts, validateClusters: { value: false } };
  });
}
