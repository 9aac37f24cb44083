/**
 * Gateway (router) listeners from the servers of every Gateway whose
 * selector matches the router's labels: one listener `0.0.0.0_PORT` per
 * port, bound for real. HTTP servers share an HCM with routes `http.PORT`;
 * TLS-terminating servers (HTTPS/TLS with SIMPLE or MUTUAL) get one chain
 * each, matched by SNI, with routes `https.PORT.SERVER.GATEWAY.NS`;
 * PASSTHROUGH servers forward by SNI per the VirtualService `tls` routes;
 * TCP servers forward per `tcp` routes.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/
 */
import type { Server, ServerTLSSettings } from '@weft/config';
import { hostCovers, splitNamespacedHost } from '../../model/hosts.ts';
import type { TranslateContext } from '../context.ts';
import { DOWNSTREAM_TLS_CONTEXT, FILTER_NAMES, TLS_INSPECTOR } from '../envoy/type-names.ts';
import { type Body, socketAddress, typed } from '../envoy/values.ts';
import { hcmFilter, httpConnectionManager, tcpProxyFilter } from '../listeners/network-filters.ts';
import { gatewayHttpRouteName, gatewayHttpsRouteName } from '../naming.ts';
import type { RouteScope } from '../routes/route-match.ts';
import { type TcpTarget, virtualServiceTcpTarget, virtualServiceTlsRoutes } from '../routes/tcp-routes.ts';
import { admittedHosts, buildGatewayRouteConfiguration, type GatewayServer } from './gateway-routes.ts';

type ServerKind = 'http' | 'terminate' | 'terminate-tcp' | 'passthrough' | 'tcp';

function serverKind(server: Server): ServerKind | undefined {
  const protocol = server.port.protocol.toUpperCase();
  if (protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC') return 'http';
  if (protocol === 'HTTPS' || protocol === 'TLS') {
    const mode = server.tls?.mode ?? 'SIMPLE';
    if (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') return 'passthrough';
    return protocol === 'HTTPS' ? 'terminate' : 'terminate-tcp';
  }
  if (protocol === 'TCP' || protocol === 'MONGO' || protocol === 'REDIS' || protocol === 'MYSQL')
    return 'tcp';
  return undefined;
}

/** The SNI names of a server: its hosts without namespaces; none when any host is `*`. */
function serverNames(server: Server, namespace: string): string[] {
  const hosts = server.hosts.map((h) => splitNamespacedHost(h, namespace).host);
  return hosts.includes('*') ? [] : [...new Set(hosts)].sort();
}

/** DownstreamTlsContext for a terminating server: SDS by credentialName, else certificate files. */
function downstreamTls(
  ctx: TranslateContext,
  tls: ServerTLSSettings | undefined,
  where: string,
): Body | undefined {
  const common: Body = {};
  const sds = (name: string) => ({ name, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } });
  if (tls?.credentialName) {
    common.tlsCertificateSdsSecretConfigs = [sds(`kubernetes://${tls.credentialName}`)];
    if (tls.mode === 'MUTUAL')
      common.validationContextSdsSecretConfig = sds(`kubernetes://${tls.credentialName}-cacert`);
  } else if (tls?.serverCertificate && tls.privateKey) {
    common.tlsCertificates = [
      { certificateChain: { filename: tls.serverCertificate }, privateKey: { filename: tls.privateKey } },
    ];
    if (tls.mode === 'MUTUAL' && tls.caCertificates)
      common.validationContext = { trustedCa: { filename: tls.caCertificates } };
  } else {
    ctx.warn(
      `${where}: TLS server has neither credentialName nor serverCertificate/privateKey; server skipped`,
    );
    return undefined;
  }
  common.alpnProtocols = ['h2', 'http/1.1'];
  const context: Body = { commonTlsContext: common };
  if (tls?.mode === 'MUTUAL') context.requireClientCertificate = { value: true };
  return { name: FILTER_NAMES.tlsTransportSocket, typedConfig: typed(DOWNSTREAM_TLS_CONTEXT, context) };
}

/** Drops chains whose match repeats an earlier one (Envoy rejects duplicate matches), with a warning. */
function uniqueChains(ctx: TranslateContext, chains: Body[], port: number): Body[] {
  const seen = new Set<string>();
  return chains.filter((chain) => {
    const key = JSON.stringify(chain.filterChainMatch ?? {});
    if (seen.has(key)) {
      ctx.warn(
        `gateway port ${port}: two servers or routes claim the same filter chain match ${key}; keeping the first`,
      );
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** What one gateway port produces: its listener and the route configurations its chains name. */
interface PortOutput {
  listener: Body;
  routes: Body[];
}

function gatewayScope(ctx: TranslateContext, server: GatewayServer, port: number): RouteScope {
  return { gateway: server.gatewayKey, port, labels: ctx.proxy.labels, namespace: ctx.proxy.namespace };
}

/** An HTTPS server that terminates TLS: one chain by SNI, its own route configuration. */
function terminatingChain(
  ctx: TranslateContext,
  server: GatewayServer,
  port: number,
  routes: Body[],
): Body | undefined {
  const socket = downstreamTls(ctx, server.server.tls, `Gateway ${server.gatewayKey} port ${port}`);
  if (!socket) return undefined;
  const { metadata } = server.gateway;
  const routeName = gatewayHttpsRouteName(port, server.server.port.name, metadata.name, metadata.namespace);
  routes.push(buildGatewayRouteConfiguration(ctx, routeName, port, [server]));
  const names = serverNames(server.server, metadata.namespace);
  const hcm = httpConnectionManager(ctx, { direction: 'gateway', port }, `outbound_0.0.0.0_${port}`, {
    rds: routeName,
  });
  const chain: Body = { name: routeName, filters: [hcmFilter(hcm)], transportSocket: socket };
  if (names.length > 0) chain.filterChainMatch = { serverNames: names };
  return chain;
}

/** A PASSTHROUGH server: one chain per VirtualService `tls` route, by the route's SNI hosts the server admits. */
function passthroughChains(ctx: TranslateContext, server: GatewayServer, port: number): Body[] {
  const chains: Body[] = [];
  for (const vs of ctx.push.virtualServicesFor(server.gatewayKey, ctx.proxy.namespace)) {
    if (admittedHosts(server, vs).length === 0) continue;
    for (const route of virtualServiceTlsRoutes(ctx, vs, gatewayScope(ctx, server, port))) {
      const names = route.sniHosts.filter((sni) =>
        server.server.hosts.some((h) => hostCovers(splitNamespacedHost(h, '').host, sni)),
      );
      if (names.length === 0) continue;
      chains.push({
        filterChainMatch: { serverNames: names },
        filters: [tcpProxyFilter(statPrefixOf(route.target), route.target)],
      });
    }
  }
  return chains;
}

function statPrefixOf(target: TcpTarget): string {
  return typeof target === 'string' ? target : target[0]!.name;
}

/**
 * A TCP server, or a TLS server that terminates (then forwards the
 * plaintext): the first VirtualService `tcp` route bound to it.
 */
function tcpChain(
  ctx: TranslateContext,
  server: GatewayServer,
  port: number,
  terminate: boolean,
): Body | undefined {
  const where = `Gateway ${server.gatewayKey} port ${port}`;
  const vs = ctx.push
    .virtualServicesFor(server.gatewayKey, ctx.proxy.namespace)
    .find((v) => admittedHosts(server, v).length > 0);
  const target = vs && virtualServiceTcpTarget(ctx, vs, gatewayScope(ctx, server, port));
  if (!target) {
    ctx.warn(`${where}: no VirtualService tcp route bound to this ${terminate ? 'TLS' : 'TCP'} server`);
    return undefined;
  }
  const chain: Body = { filters: [tcpProxyFilter(statPrefixOf(target), target)] };
  if (!terminate) return chain;
  const socket = downstreamTls(ctx, server.server.tls, where);
  if (!socket) return undefined;
  chain.transportSocket = socket;
  const names = serverNames(server.server, server.gateway.metadata.namespace);
  if (names.length > 0) chain.filterChainMatch = { serverNames: names };
  return chain;
}

function buildPort(ctx: TranslateContext, port: number, servers: GatewayServer[]): PortOutput | undefined {
  const chains: Body[] = [];
  const routes: Body[] = [];
  const http = servers.filter((s) => serverKind(s.server) === 'http');
  const usesSni = servers.some((s) => serverKind(s.server) !== 'http' && serverKind(s.server) !== 'tcp');
  for (const server of servers) {
    const kind = serverKind(server.server);
    const add = (chain: Body | undefined) => {
      if (chain) chains.push(chain);
    };
    if (kind === 'terminate') add(terminatingChain(ctx, server, port, routes));
    else if (kind === 'terminate-tcp') add(tcpChain(ctx, server, port, true));
    else if (kind === 'passthrough') chains.push(...passthroughChains(ctx, server, port));
    else if (kind === 'tcp') add(tcpChain(ctx, server, port, false));
    else if (kind === undefined) {
      ctx.warn(
        `Gateway ${server.gatewayKey} port ${port}: protocol ${server.server.port.protocol} is not supported on gateways; server skipped`,
      );
    }
  }
  if (http.length > 0) {
    const routeName = gatewayHttpRouteName(port);
    routes.push(buildGatewayRouteConfiguration(ctx, routeName, port, http));
    const hcm = httpConnectionManager(ctx, { direction: 'gateway', port }, `outbound_0.0.0.0_${port}`, {
      rds: routeName,
    });
    // Plain HTTP has no SNI: with TLS chains on the same port it is the
    // chain for connections without TLS.
    const chain: Body = { filters: [hcmFilter(hcm)] };
    if (usesSni) chain.filterChainMatch = { transportProtocol: 'raw_buffer' };
    chains.push(chain);
  }
  const unique = uniqueChains(ctx, chains, port);
  if (unique.length === 0) return undefined;
  const listener: Body = {
    name: `0.0.0.0_${port}`,
    address: socketAddress('0.0.0.0', port),
    trafficDirection: 'OUTBOUND',
    filterChains: unique,
  };
  if (usesSni)
    listener.listenerFilters = [{ name: FILTER_NAMES.tlsInspector, typedConfig: typed(TLS_INSPECTOR) }];
  return { listener, routes };
}

/** Gateway listeners and route configurations of a router proxy. */
export function buildGatewayResources(ctx: TranslateContext): { listeners: Body[]; routes: Body[] } {
  const byPort = new Map<number, GatewayServer[]>();
  for (const gateway of ctx.push.gatewaysFor(ctx.proxy.labels)) {
    const gatewayKey = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    for (const server of gateway.spec.servers) {
      const list = byPort.get(server.port.number) ?? [];
      list.push({ gateway, server, gatewayKey });
      byPort.set(server.port.number, list);
    }
  }
  const listeners: Body[] = [];
  const routes: Body[] = [];
  for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
    const output = buildPort(ctx, port, byPort.get(port)!);
    if (!output) continue;
    listeners.push(output.listener);
    routes.push(...output.routes);
  }
  return { listeners, routes };
}
