/**
 * Gateway HTTP route configurations: for each route name (`http.PORT`, or
 * `https.PORT.SERVER.GATEWAY.NS` per terminating TLS server), a virtual host
 * per VirtualService host bound to the gateway and admitted by the server's
 * hosts, with domains `host` and `host:*`; a `blackhole:PORT` 404 host when
 * nothing is bound.
 */
import type { Gateway, Server } from '@weft/config';
import { hostsIntersect, narrowerHost, splitNamespacedHost } from '../../model/hosts.ts';
import type { IndexedVirtualService } from '../../model/push-context.ts';
import type { TranslateContext } from '../context.ts';
import type { Body } from '../envoy/values.ts';
import { virtualServiceRoutes } from '../routes/http-routes.ts';
import type { RouteScope } from '../routes/route-match.ts';
import { claimDomains } from '../routes/virtual-hosts.ts';

/** A server of a Gateway, with the gateway it belongs to. */
export interface GatewayServer {
  readonly gateway: Gateway;
  readonly server: Server;
  /** `namespace/name` of the gateway, as VirtualServices bind to it. */
  readonly gatewayKey: string;
}

/** The hosts of `vs` a server admits (server host `ns/host`: the VirtualService must be in ns unless `*`). */
export function admittedHosts(server: GatewayServer, vs: IndexedVirtualService): string[] {
  const out: string[] = [];
  for (const entry of server.server.hosts) {
    const { namespace, host } = splitNamespacedHost(entry, server.gateway.metadata.namespace);
    if (namespace !== '*' && namespace !== vs.service.metadata.namespace) continue;
    for (const vsHost of vs.hosts) if (hostsIntersect(host, vsHost)) out.push(narrowerHost(host, vsHost));
  }
  return [...new Set(out)];
}

/** Gateway virtual host domains: `host` and `host:*`, or `*` alone. */
function gatewayDomains(host: string): string[] {
  return host === '*' ? ['*'] : [host, `${host}:*`];
}

/**
 * One gateway RouteConfiguration from the servers that share it. Virtual
 * hosts merge the routes of every VirtualService (in namespace/name order)
 * that binds the same host, as Istio does on gateways.
 */
export function buildGatewayRouteConfiguration(
  ctx: TranslateContext,
  name: string,
  port: number,
  servers: readonly GatewayServer[],
): Body {
  const hosts = new Map<string, { routes: Body[]; from: Set<string>; redirect: boolean }>();
  for (const server of servers) {
    const scope: RouteScope = {
      gateway: server.gatewayKey,
      port,
      labels: ctx.proxy.labels,
      namespace: ctx.proxy.namespace,
    };
    for (const vs of ctx.push.virtualServicesFor(server.gatewayKey, ctx.proxy.namespace)) {
      const admitted = admittedHosts(server, vs);
      if (admitted.length === 0) continue;
      const routes = virtualServiceRoutes(ctx, vs, scope);
      if (routes.length === 0) continue;
      const key = `${vs.service.metadata.namespace}/${vs.service.metadata.name}`;
      for (const host of admitted) {
        const entry = hosts.get(host) ?? { routes: [], from: new Set<string>(), redirect: false };
        // Two servers admitting the same host must not repeat its routes.
        if (!entry.from.has(key)) entry.routes.push(...routes);
        entry.from.add(key);
        entry.redirect ||= server.server.tls?.httpsRedirect === true;
        hosts.set(host, entry);
      }
    }
  }
  const used = new Set<string>();
  const virtualHosts: Body[] = [];
  for (const [host, entry] of [...hosts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const domains = claimDomains(ctx, used, gatewayDomains(host), `${host}:${port}`);
    if (domains.length === 0) continue;
    const vhost: Body = { name: `${host}:${port}`, domains, routes: entry.routes };
    if (entry.redirect) vhost.requireTls = 'ALL';
    virtualHosts.push(vhost);
  }
  if (virtualHosts.length === 0) {
    virtualHosts.push({
      name: `blackhole:${port}`,
      domains: ['*'],
      routes: [{ name: 'default', match: { prefix: '/' }, directResponse: { status: 404 } }],
    });
  }
  return { name, virtualHosts, validateClusters: { value: false } };
}
