/**
 * `virtualInbound` on 15006: filter chains per port the workload serves
 * (matched on the original destination port), HTTP through an HCM with an
 * inline `inbound|PORT||` route configuration, TCP through a TCP proxy;
 * other ports pass through to InboundPassthroughClusterIpv4.
 *
 * PeerAuthentication decides each port's chains (security/workload-policies.ts):
 * STRICT = an mTLS chain (`transportProtocol: tls`) plus a plaintext chain
 * that goes nowhere (BlackHoleCluster); PERMISSIVE = the mTLS chain and a
 * plaintext chain (the `tls_inspector` listener filter tells them apart);
 * DISABLE = the plaintext chain only. Under a workload-wide STRICT mode,
 * undeclared ports are closed instead of passed through.
 */
import { type InboundPort, inboundPorts, localAppAddress } from '../clusters/inbound-clusters.ts';
import { isHttpProtocol } from '../clusters/traffic-policy.ts';
import type { TranslateContext } from '../context.ts';
import { FILTER_NAMES, ORIGINAL_DST, TLS_INSPECTOR } from '../envoy/type-names.ts';
import { type Body, duration, socketAddress, typed } from '../envoy/values.ts';
import {
  BLACKHOLE_CLUSTER,
  clusterName,
  INBOUND_CAPTURE_PORT,
  INBOUND_PASSTHROUGH_CLUSTER,
  inboundRouteName,
  VIRTUAL_INBOUND,
} from '../naming.ts';
import { networkRbacFilters } from '../security/authorization.ts';
import { meshDownstreamTransportSocket } from '../security/tls-contexts.ts';
import { inboundMtlsMode } from '../security/workload-policies.ts';
import { hcmFilter, httpConnectionManager, tcpProxyFilter } from './network-filters.ts';

/** Suffixes of the chain names of one port: plaintext keeps `inbound|PORT||`. */
export const MTLS_CHAIN_SUFFIX = 'mtls';
export const BLACKHOLE_CHAIN_SUFFIX = 'blackhole';

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

/** The network filters delivering one inbound port to the application (RBAC first on TCP). */
function deliveryFilters(ctx: TranslateContext, port: InboundPort): Body[] {
  const cluster = clusterName('inbound', port.port);
  if (isHttpProtocol(port.protocol)) {
    const chain = { direction: 'inbound' as const, port: port.port };
    return [
      hcmFilter(
        httpConnectionManager(ctx, chain, `inbound_0.0.0.0_${port.port}`, {
          inline: inboundRouteConfiguration(port.port),
        }),
      ),
    ];
  }
  return [...networkRbacFilters(ctx), tcpProxyFilter(cluster, cluster)];
}

/**
 * The filter chains for one inbound port, per its effective mTLS mode
 * (module comment). The mTLS chain is `inbound|PORT||mtls`, the plaintext
 * one `inbound|PORT||`, the STRICT reject chain `inbound|PORT||blackhole`.
 */
export function inboundFilterChains(ctx: TranslateContext, port: InboundPort): Body[] {
  const name = clusterName('inbound', port.port);
  const destinationPort = { value: port.port };
  const mode = inboundMtlsMode(ctx, port.port);
  if (mode === 'DISABLE')
    return [{ name, filterChainMatch: { destinationPort }, filters: deliveryFilters(ctx, port) }];
  const alpn = isHttpProtocol(port.protocol) ? ['h2', 'http/1.1'] : [];
  const mtls: Body = {
    name: `${name}${MTLS_CHAIN_SUFFIX}`,
    filterChainMatch: { destinationPort, transportProtocol: 'tls' },
    transportSocket: meshDownstreamTransportSocket(ctx.push.mesh.trustDomain, alpn),
    filters: deliveryFilters(ctx, port),
  };
  const plaintext: Body =
    mode === 'STRICT'
      ? {
          name: `${name}${BLACKHOLE_CHAIN_SUFFIX}`,
          filterChainMatch: { destinationPort, transportProtocol: 'raw_buffer' },
          filters: [tcpProxyFilter(BLACKHOLE_CLUSTER, BLACKHOLE_CLUSTER)],
        }
      : {
          name,
          filterChainMatch: { destinationPort, transportProtocol: 'raw_buffer' },
          filters: deliveryFilters(ctx, port),
        };
  return [mtls, plaintext];
}

/**
 * `virtualInbound`: 0.0.0.0:15006 with the original_dst and tls_inspector
 * listener filters. Undeclared ports pass through, unless the workload's
 * own mode (no port) is STRICT: then they are closed (BlackHoleCluster).
 */
export function virtualInboundListener(ctx: TranslateContext): Body {
  const strict = inboundMtlsMode(ctx, undefined) === 'STRICT';
  const fallback = strict ? BLACKHOLE_CLUSTER : INBOUND_PASSTHROUGH_CLUSTER;
  return {
    name: VIRTUAL_INBOUND,
    address: socketAddress('0.0.0.0', INBOUND_CAPTURE_PORT),
    trafficDirection: 'INBOUND',
    listenerFilters: [
      { name: FILTER_NAMES.originalDst, typedConfig: typed(ORIGINAL_DST) },
      { name: FILTER_NAMES.tlsInspector, typedConfig: typed(TLS_INSPECTOR) },
    ],
    filterChains: inboundPorts(ctx).flatMap((port) => inboundFilterChains(ctx, port)),
    defaultFilterChain: {
      name: strict ? 'virtualInbound-blackhole' : 'InboundPassthroughFilterChain',
      filters: [tcpProxyFilter(fallback, fallback)],
    },
  };
}

/**
 * Local mode only (see `localAppAddress`): one listener per inbound port,
 * `inbound_IP_PORT`, bound on the workload address and port the mesh dials
 * (no capture, so no original destination), with that port's chains; the
 * inbound clusters deliver to the application on LOCAL_APP_ADDRESS.
 */
export function localInboundListeners(ctx: TranslateContext): Body[] {
  if (localAppAddress(ctx.proxy) === undefined) return [];
  return inboundPorts(ctx).map((port) => ({
    name: `inbound_${port.workloadAddress}_${port.port}`,
    address: socketAddress(port.workloadAddress, port.port),
    trafficDirection: 'INBOUND',
    listenerFilters: [{ name: FILTER_NAMES.tlsInspector, typedConfig: typed(TLS_INSPECTOR) }],
    filterChains: inboundFilterChains(ctx, port),
  }));
}
