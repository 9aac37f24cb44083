/**
 * Sidecar capture config as Istio's discovery server shapes it, built from
 * the test's addresses: `virtualOutbound` (useOriginalDst; what no listener
 * claims goes to PassthroughCluster, type ORIGINAL_DST), per-port outbound listeners with `bindToPort: false`
 * (`0.0.0.0_PORT` HTTP routed by Host, `VIP_PORT` TCP), and
 * `virtualInbound` (original_dst listener filter, chains by destination
 * port).
 */
import type { Body } from '../../src/config/problems.ts';
import {
  filterChain,
  httpConnectionManager,
  routeConfiguration,
  routeTo,
  socketAddress,
  staticCluster,
  tcpProxy,
  virtualHost,
} from '../../src/testing/builders.ts';
import type { ConfigSet } from '../support/harness.ts';

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export interface CaptureConfigSpec {
  /** An HTTP service: requests to any address on `port` with Host `hostname` go to `upstream`. */
  readonly http: { readonly hostname: string; readonly port: number; readonly upstream: Upstream };
  /** A TCP service: connections to `vip:port` go to `upstream`. */
  readonly tcp: { readonly vip: string; readonly port: number; readonly upstream: Upstream };
  /** Where virtualInbound's default chain sends ports without their own chain. */
  readonly fallback: Upstream;
  /**
   * Inbound: connections to this workload's `port` go to `upstream` (the
   * app), from `sourceAddress` when given (Istio: 127.0.0.6, so the
   * proxy's call to its own pod IP is not captured again).
   */
  readonly inbound: { readonly port: number; readonly upstream: Upstream; readonly sourceAddress?: string };
}

const ORIGINAL_DST_FILTER = {
  name: 'envoy.filters.listener.original_dst',
  typedConfig: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  },
};

/** The clusters and listeners for `spec`; virtualOutbound on 0.0.0.0:15001, virtualInbound on 0.0.0.0:15006. */
export function captureConfig(spec: CaptureConfigSpec): ConfigSet {
  const httpCluster = `outbound|${spec.http.port}||${spec.http.hostname}`;
  const tcpCluster = `outbound|${spec.tcp.port}||tcp.example`;
  const inboundCluster = `inbound|${spec.inbound.port}||`;
  const unbound = { bindToPort: { value: false }, trafficDirection: 'OUTBOUND' };
  return {
    clusters: [
      staticCluster(httpCluster, [spec.http.upstream].map(endpoint)),
      staticCluster(tcpCluster, [spec.tcp.upstream].map(endpoint)),
      staticCluster('fallback', [spec.fallback].map(endpoint)),
      {
        name: 'PassthroughCluster',
        type: 'ORIGINAL_DST',
        lbPolicy: 'CLUSTER_PROVIDED',
        connectTimeout: { seconds: '1' },
      },
      staticCluster(
        inboundCluster,
        [spec.inbound.upstream].map(endpoint),
        spec.inbound.sourceAddress
          ? { upstreamBindConfig: { sourceAddress: { address: spec.inbound.sourceAddress, portValue: 0 } } }
          : {},
      ),
    ],
    listeners: [
      {
        name: 'virtualOutbound',
        address: socketAddress('0.0.0.0', 15001),
        useOriginalDst: { value: true },
        trafficDirection: 'OUTBOUND',
        filterChains: [filterChain(tcpProxy('PassthroughCluster'))],
      },
      {
        name: `0.0.0.0_${spec.http.port}`,
        address: socketAddress('0.0.0.0', spec.http.port),
        ...unbound,
        filterChains: [
          filterChain(
            httpConnectionManager(
              routeConfiguration(String(spec.http.port), [
                virtualHost(
                  spec.http.hostname,
                  [spec.http.hostname, `${spec.http.hostname}:${spec.http.port}`],
                  [routeTo(httpCluster)],
                ),
              ]),
            ),
          ),
        ],
      },
      {
        name: `${spec.tcp.vip}_${spec.tcp.port}`,
        address: socketAddress(spec.tcp.vip, spec.tcp.port),
        ...unbound,
        filterChains: [filterChain(tcpProxy(tcpCluster))],
      },
      {
        name: 'virtualInbound',
        address: socketAddress('0.0.0.0', 15006),
        trafficDirection: 'INBOUND',
        listenerFilters: [ORIGINAL_DST_FILTER],
        filterChains: [
          filterChain(tcpProxy(inboundCluster), { destinationPort: { value: spec.inbound.port } }),
          filterChain(tcpProxy('fallback')),
        ],
      },
    ],
  };
}

function endpoint(upstream: Upstream): { address: string; port: number } {
  return { address: upstream.host, port: upstream.port };
}

/** A Body list -> JSON-safe plain objects (for handing the config to another process). */
export function toJson(config: ConfigSet): Record<string, Body[]> {
  return JSON.parse(JSON.stringify(config)) as Record<string, Body[]>;
}
