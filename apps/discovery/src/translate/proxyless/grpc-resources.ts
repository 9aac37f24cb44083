/**
 * Proxyless gRPC clients (node metadata GENERATOR grpc): for each visible
 * service port, an API listener `HOST:PORT` (what a client resolving
 * `xds:///HOST:PORT` asks for) whose HCM fetches route configuration
 * `HOST:PORT` over ADS; the route configuration has one virtual host whose
 * domains are the host with and without port.
 *
 * Only what @grpc/grpc-js-xds accepts is emitted: router filter last, path
 * matchers prefix/path/safe_regex, route actions only (no redirects), retry
 * policies with a backoff; clusters and endpoints are shaped by the shared
 * builders in their proxyless mode (ROUND_ROBIN or RING_HASH, localities
 * always set).
 */
import type { Service } from '@weft/config';
import type { TranslateContext } from '../context.ts';
import type { Body } from '../envoy/values.ts';
import { httpConnectionManager } from '../listeners/network-filters.ts';
import { proxylessName } from '../naming.ts';
import { serviceVirtualHost } from '../routes/virtual-hosts.ts';

/** The API listener for `xds:///HOST:PORT`. */
export function proxylessListener(ctx: TranslateContext, service: Service, port: number): Body {
  const name = proxylessName(service.hostname, port);
  const hcm = httpConnectionManager(ctx, { direction: 'outbound', port }, name, { rds: name });
  return { name, apiListener: { apiListener: hcm } };
}

/** The route configuration `HOST:PORT`: VirtualService routes (gRPC-compatible ones) or the default route. */
export function proxylessRouteConfiguration(ctx: TranslateContext, service: Service, port: number): Body {
  const name = proxylessName(service.hostname, port);
  const vhost = serviceVirtualHost(ctx, service, port, [service.hostname, name]);
  return { name, virtualHosts: [{ ...vhost, name }] };
}

/** Listeners and route configurations for every visible service port. */
export function buildProxylessListenersAndRoutes(ctx: TranslateContext): {
  listeners: Body[];
  routes: Body[];
} {
  const listeners: Body[] = [];
  const routes: Body[] = [];
  for (const service of ctx.services) {
    for (const port of service.ports) {
      listeners.push(proxylessListener(ctx, service, port.number));
      routes.push(proxylessRouteConfiguration(ctx, service, port.number));
    }
  }
  return { listeners, routes };
}
