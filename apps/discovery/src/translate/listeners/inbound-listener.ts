/**
 * `virtualInbound` on 15006: one filter chain per port the workload serves
 * (matched on the original destination port), HTTP through an HCM with an
 * inline `inbound|PORT||` route configuration, TCP through a TCP proxy; other
 * ports pass through to InboundPassthroughClusterIpv4.
 */
import { type InboundPort, inboundPorts } from '../clusters/inbound-clusters.ts';
import { isHttpProtocol } from '../clusters/traffic-policy.ts';
import type { TranslateContext } from '../context.ts';
import { FILTER_NAMES, ORIGINAL_DST } from '../envoy/type-names.ts';
import { type Body, duration, socketAddress, typed } from '../envoy/values.ts';
import {
  clusterName,
  INBOUND_CAPTURE_PORT,
  INBOUND_PASSTHROUGH_CLUSTER,
  inboundRouteName,
  VIRTUAL_INBOUND,
} from '../naming.ts';
import { hcmFilter, httpConnectionManager, tcpProxyFilter } from './network-filters.ts';

/** The inline route configuration of an inbound HTTP chain: everything to `inbound|PORT||`. */
export function inboundRouteConfiguration(port: number): Body {
  const cluster = clusterName('inbound', port);
  return {
    name: inboundRouteName(port),
    virtualHosts: [
      {
        name: `inbound|http|${port}`,
        domains: ['*'],
        routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: duration(0) } }],
      },
    ],
    validateClusters: { value: false },
  };
}

/**
 * The filter chain for one inbound port. Extension point for mTLS: the
 * transport socket (and the authn/authz filters via `securityFilters`) of
 * this chain is where PeerAuthentication will apply.
 */
export function inboundFilterChain(ctx: TranslateContext, port: InboundPort): Body {
  const cluster = clusterName('inbound', port.port);
  const chain = { direction: 'inbound' as const, port: port.port };
  const filter = isHttpProtocol(port.protocol)
    ? hcmFilter(
        httpConnectionManager(ctx, chain, `inbound_0.0.0.0_${port.port}`, {
          inline: inboundRouteConfiguration(port.port),
        }),
      )
    : tcpProxyFilter(cluster, cluster);
  return { name: cluster, filterChainMatch: { destinationPort: { value: port.port } }, filters: [filter] };
}

/** `virtualInbound`: 0.0.0.0:15006 with the original_dst listener filter. */
export function virtualInboundListener(ctx: TranslateContext): Body {
  return {
    name: VIRTUAL_INBOUND,
    address: socketAddress('0.0.0.0', INBOUND_CAPTURE_PORT),
    trafficDirection: 'INBOUND',
    listenerFilters: [{ name: FILTER_NAMES.originalDst, typedConfig: typed(ORIGINAL_DST) }],
    filterChains: inboundPorts(ctx).map((port) => inboundFilterChain(ctx, port)),
    defaultFilterChain: {
      name: 'InboundPassthroughFilterChain',
      filters: [tcpProxyFilter(INBOUND_PASSTHROUGH_CLUSTER, INBOUND_PASSTHROUGH_CLUSTER)],
    },
  };
}
