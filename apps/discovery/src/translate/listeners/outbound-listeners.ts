/**
 * Sidecar outbound listeners: `virtualOutbound` on 15001 (useOriginalDst:
 * captured connections are handed to the listener of their original
 * destination, the rest pass through or are dropped by outbound traffic
 * policy), and per-port listeners with `bindToPort: false` as Istio makes
 * them: `0.0.0.0_PORT` for HTTP (routes via RDS by Host/:authority) and
 * `VIP_PORT` (or `0.0.0.0_PORT` without a VIP) for TCP.
 */
import type { Service, ServicePort } from '@weft/config';
import { MESH_GATEWAY } from '../../model/push-context.ts';
import { isHttpProtocol } from '../clusters/traffic-policy.ts';
import type { TranslateContext } from '../context.ts';
import { type Body, socketAddress } from '../envoy/values.ts';
import {
  BLACKHOLE_CLUSTER,
  clusterName,
  OUTBOUND_CAPTURE_PORT,
  outboundListenerName,
  outboundRouteName,
  PASSTHROUGH_CLUSTER,
  VIRTUAL_OUTBOUND,
} from '../naming.ts';
import { type TcpTarget, virtualServiceTcpTarget } from '../routes/tcp-routes.ts';
import { virtualServiceFor } from '../routes/virtual-hosts.ts';
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
  const candidates = ctx.push.virtualServicesFor(MESH_GATEWAY, ctx.proxy.namespace);
  const vs = virtualServiceFor(candidates, service.hostname);
  const scope = {
    gateway: MESH_GATEWAY,
    port: port.number,
    labels: ctx.proxy.labels,
    namespace: ctx.proxy.namespace,
  };
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
  const sorted = [...listeners.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, v]) => v.body);
  return [virtualOutboundListener(ctx), ...sorted];
}
