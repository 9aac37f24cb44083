/**
 * Sidecar outbound listeners: `virtualOutbound` on 15001 (useOriginalDst:
 * captured connections are handed to the listener of their original
 * destination, the rest pass through or are dropped by outbound traffic
 * policy), and per-port listeners with `bindToPort: false` as Istio makes
 * them: `0.0.0.0_PORT` for HTTP (routes via RDS by Host/:authority),
 * `0.0.0.0_PORT` with SNI-matched chains for HTTPS/TLS services without VIP,
 * and `VIP_PORT` (or `0.0.0.0_PORT` without a VIP) for other TCP.
 */
import type { Service, ServicePort } from '@weft/config';
import { hostCovers } from '../../model/hosts.ts';
import { isHttpProtocol } from '../clusters/traffic-policy.ts';
import type { TranslateContext } from '../context.ts';
import { FILTER_NAMES, TLS_INSPECTOR } from '../envoy/type-names.ts';
import { type Body, socketAddress, typed } from '../envoy/values.ts';
import {
  BLACKHOLE_CLUSTER,
  clusterName,
  OUTBOUND_CAPTURE_PORT,
  outboundListenerName,
  outboundRouteName,
  PASSTHROUGH_CLUSTER,
  VIRTUAL_OUTBOUND,
} from '../naming.ts';
import { type TcpTarget, virtualServiceTcpTarget, virtualServiceTlsRoutes } from '../routes/tcp-routes.ts';
import { meshRouteScope, meshVirtualService } from '../routes/virtual-hosts.ts';
import { hcmFilter, httpConnectionManager, tcpProxyFilter } from './network-filters.ts';

const ANY_ADDRESS = '0.0.0.0';

/** `virtualOutbound`: 0.0.0.0:15001, hands connections to their original destination's listener. */
export function virtualOutboundListener(ctx: TranslateContext): Body {
  const fallback = ctx.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
  return {
    name: VIRTUAL_OUTBOUND,
    address: socketAddress(ANY_ADDRESS, OUTBOUND_CAPTURE_PORT),
    useOriginalDst: { value: true },
    trafficDirection: 'OUTBOUND',
    filterChains: [
      {
        name: fallback === BLACKHOLE_CLUSTER ? 'BlackHoleCluster' : 'PassthroughFilterChain',
        filters: [tcpProxyFilter(fallback, fallback)],
      },
    ],
  };
}

function httpListener(ctx: TranslateContext, port: number): Body {
  const name = outboundListenerName(ANY_ADDRESS, port);
  const hcm = httpConnectionManager(ctx, { direction: 'outbound', port }, `outbound_${name}`, {
    rds: outboundRouteName(port),
  });
  return {
    name,
    address: socketAddress(ANY_ADDRESS, port),
    bindToPort: { value: false },
    trafficDirection: 'OUTBOUND',
    filterChains: [{ filters: [hcmFilter(hcm)] }],
  };
}

function tcpTargetFor(ctx: TranslateContext, service: Service, port: ServicePort): TcpTarget {
  const vs = meshVirtualService(ctx, service.hostname);
  const scope = meshRouteScope(ctx, port.number);
  return (
    (vs && virtualServiceTcpTarget(ctx, vs, scope)) ??
    clusterName('outbound', port.number, '', service.hostname)
  );
}

function tcpListener(ctx: TranslateContext, address: string, service: Service, port: ServicePort): Body {
  const name = outboundListenerName(address, port.number);
  return {
    name,
    address: socketAddress(address, port.number),
    bindToPort: { value: false },
    trafficDirection: 'OUTBOUND',
    filterChains: [
      {
        filters: [
          tcpProxyFilter(`outbound|${port.number}||${service.hostname}`, tcpTargetFor(ctx, service, port)),
        ],
      },
    ],
  };
}

/** HTTPS and TLS ports: the proxy routes them by SNI without terminating TLS. */
function isTlsProtocol(protocol: string): boolean {
  return protocol === 'HTTPS' || protocol === 'TLS';
}

/**
 * The SNI-matched chain of a TLS service without VIP: the first VirtualService
 * `tls` route whose sniHosts cover the service host, else the service cluster.
 */
function tlsChain(ctx: TranslateContext, service: Service, port: ServicePort): Body {
  const vs = meshVirtualService(ctx, service.hostname);
  const scope = meshRouteScope(ctx, port.number);
  const routed = vs
    ? virtualServiceTlsRoutes(ctx, vs, scope).find((r) =>
        r.sniHosts.some((sni) => hostCovers(sni, service.hostname)),
      )
    : undefined;
  const target = routed?.target ?? clusterName('outbound', port.number, '', service.hostname);
  return {
    filterChainMatch: { serverNames: [service.hostname] },
    filters: [tcpProxyFilter(`outbound|${port.number}||${service.hostname}`, target)],
  };
}

/**
 * `0.0.0.0_PORT` for HTTPS/TLS services without VIPs: TLS is inspected (not
 * terminated) and each service gets the chain matching its host as SNI, as
 * Istio does for external HTTPS hosts on a shared port.
 */
function tlsListener(port: number, chains: Body[]): Body {
  return {
    name: outboundListenerName(ANY_ADDRESS, port),
    address: socketAddress(ANY_ADDRESS, port),
    bindToPort: { value: false },
    trafficDirection: 'OUTBOUND',
    listenerFilters: [{ name: FILTER_NAMES.tlsInspector, typedConfig: typed(TLS_INSPECTOR) }],
    filterChains: chains,
  };
}

/**
 * Every outbound listener of a sidecar, sorted by name. A port used by both
 * HTTP and TCP services without VIPs keeps HTTP; two TCP services without
 * VIPs on one port keep the first (by hostname); both cases warn, as Istio
 * reports listener conflicts.
 */
export function buildOutboundListeners(ctx: TranslateContext): Body[] {
  const listeners = new Map<string, { body: Body; owner: string; http: boolean }>();
  const add = (name: string, body: Body, owner: string, http: boolean) => {
    const existing = listeners.get(name);
    if (!existing) {
      listeners.set(name, { body, owner, http });
      return;
    }
    if (existing.http && http) return;
    const [kept, dropped] = http ? [owner, existing.owner] : [existing.owner, owner];
    ctx.warn(`listener ${name}: ${dropped} conflicts with ${kept}; keeping ${kept}`);
    if (http) listeners.set(name, { body, owner, http });
  };
  const tlsChains = new Map<number, Body[]>();
  for (const service of ctx.services) {
    for (const port of service.ports) {
      if (isHttpProtocol(port.protocol)) {
        const name = outboundListenerName(ANY_ADDRESS, port.number);
        add(
          name,
          listeners.get(name)?.body ?? httpListener(ctx, port.number),
          `${service.hostname}:${port.number}`,
          true,
        );
        continue;
      }
      const vips = service.addresses.filter((a) => !a.includes('/'));
      if (vips.length === 0 && isTlsProtocol(port.protocol)) {
        const chains = tlsChains.get(port.number) ?? [];
        chains.push(tlsChain(ctx, service, port));
        tlsChains.set(port.number, chains);
        continue;
      }
      for (const address of vips.length > 0 ? vips : [ANY_ADDRESS]) {
        add(
          outboundListenerName(address, port.number),
          tcpListener(ctx, address, service, port),
          `${service.hostname}:${port.number}`,
          false,
        );
      }
    }
  }
  for (const [port, chains] of tlsChains) {
    add(
      outboundListenerName(ANY_ADDRESS, port),
      tlsListener(port, chains),
      `TLS services on port ${port}`,
      false,
    );
  }
  const sorted = [...listeners.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, v]) => v.body);
  return [virtualOutboundListener(ctx), ...sorted];
}
