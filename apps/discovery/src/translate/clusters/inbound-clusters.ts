/**
 * Inbound side of a sidecar: which ports its own workload serves (from the
 * mesh model's endpoints whose address is one of the proxy's IPs), and the
 * `inbound|PORT||` clusters that deliver to the application.
 */
import type { Protocol } from '@weft/config';
import type { Proxy as MeshProxy } from '../../model/proxy.ts';
import type { PushContext } from '../../model/push-context.ts';
import type { TranslateContext } from '../context.ts';
import { type Body, duration, socketAddress } from '../envoy/values.ts';
import { clusterName, INBOUND_PASSTHROUGH_CLUSTER } from '../naming.ts';
import { passthroughCluster } from './outbound-clusters.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './traffic-policy.ts';

/**
 * Local mode (Istio's `INTERCEPTION_MODE: NONE` without capture, several
 * workloads on one machine): the node metadata `LOCAL_APP_ADDRESS` names the
 * address the application listens on, on the same ports it serves, while
 * the proxy binds the workload address the mesh dials. Undefined otherwise.
 */
export function localAppAddress(proxy: MeshProxy): string | undefined {
  if (proxy.metadata.INTERCEPTION_MODE !== 'NONE') return undefined;
  const address = proxy.metadata.LOCAL_APP_ADDRESS;
  return typeof address === 'string' && address !== '' ? address : undefined;
}

/** One port the proxy's workload serves. */
export interface InboundPort {
  /** The workload (endpoint) port: the port traffic arrives on and the cluster name's port. */
  readonly port: number;
  /** The address the application listens on (local mode: the proxy's LOCAL_APP_ADDRESS). */
  readonly address: string;
  /** The workload (endpoint) address peers dial; equals `address` except in local mode. */
  readonly workloadAddress: string;
  readonly protocol: Protocol;
  /** `host:servicePort` of every service this port backs, sorted. */
  readonly services: readonly string[];
}

type MeshService = PushContext['model']['services'][number];
type MeshEndpoint = ReturnType<PushContext['model']['endpoints']>[number];

interface AddressedEndpoint {
  /** Position in the walk over services (by hostname), their ports and endpoints. */
  readonly order: number;
  readonly service: MeshService;
  readonly servicePort: MeshService['ports'][number];
  readonly endpoint: MeshEndpoint;
}

const addressIndexes = new WeakMap<PushContext, Map<string, AddressedEndpoint[]>>();

/** Every service endpoint of the push by address, built once per push (a sidecar's lookup is then O(its IPs)). */
function endpointsByAddress(push: PushContext): Map<string, AddressedEndpoint[]> {
  let index = addressIndexes.get(push);
  if (index !== undefined) return index;
  index = new Map();
  let order = 0;
  const services = [...push.model.services].sort((a, b) => a.hostname.localeCompare(b.hostname));
  for (const service of services) {
    for (const servicePort of service.ports) {
      for (const endpoint of push.model.endpoints(service.hostname, servicePort.number)) {
        let list = index.get(endpoint.address);
        if (list === undefined) {
          list = [];
          index.set(endpoint.address, list);
        }
        list.push({ order: order++, service, servicePort, endpoint });
      }
    }
  }
  addressIndexes.set(push, index);
  return index;
}

/**
 * The ports of the proxy's own workload: every endpoint of every service in
 * the mesh whose address is one of the proxy's IP addresses. Ports backing
 * several services with different protocols keep the first protocol (by
 * service hostname) and warn.
 */
export function inboundPorts(ctx: TranslateContext): InboundPort[] {
  const appAddress = localAppAddress(ctx.proxy);
  const ips = new Set(ctx.proxy.ipAddresses);
  if (ips.size === 0) return [];
  const byPort = new Map<number, { address: string; protocol: Protocol; services: string[] }>();
  const index = endpointsByAddress(ctx.push);
  const found = [...ips].flatMap((ip) => index.get(ip) ?? []);
  if (ips.size > 1) found.sort((a, b) => a.order - b.order);
  for (const { service, servicePort, endpoint } of found) {
    const existing = byPort.get(endpoint.port);
    const label = `${service.hostname}:${servicePort.number}`;
    if (!existing) {
      byPort.set(endpoint.port, {
        address: endpoint.address,
        protocol: servicePort.protocol,
        services: [label],
      });
      continue;
    }
    if (!existing.services.includes(label)) existing.services.push(label);
    if (existing.protocol !== servicePort.protocol) {
      ctx.warn(
        `inbound port ${endpoint.port}: ${label} declares ${servicePort.protocol} but ${existing.services[0]} declares ${existing.protocol}; using ${existing.protocol}`,
      );
    }
  }
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, value]) => ({
      port,
      address: appAddress ?? value.address,
      workloadAddress: value.address,
      protocol: value.protocol,
      services: value.services.sort(),
    }));
}

/**
 * The source address inbound clusters bind under iptables capture, as Istio
 * does: the capture rules redirect the proxy's own (UID 1337) connections to
 * the pod IP back to 15006 unless they come from 127.0.0.6, so without it
 * inbound delivery to the app would loop. Local mode has no capture.
 */
export const INBOUND_SOURCE_ADDRESS = '127.0.0.6';

function captureBind(proxy: MeshProxy): Body {
  if (proxy.metadata.INTERCEPTION_MODE === 'NONE') return {};
  return { upstreamBindConfig: { sourceAddress: { address: INBOUND_SOURCE_ADDRESS, portValue: 0 } } };
}

/** `inbound|PORT||`: a STATIC cluster to the application's own address and port. */
export function inboundCluster(proxy: MeshProxy, port: InboundPort): Body {
  const name = clusterName('inbound', port.port);
  return {
    name,
    type: 'STATIC',
    connectTimeout: duration(DEFAULT_CONNECT_TIMEOUT_MS),
    lbPolicy: 'ROUND_ROBIN',
    ...captureBind(proxy),
    loadAssignment: {
      clusterName: name,
      endpoints: [{ lbEndpoints: [{ endpoint: { address: socketAddress(port.address, port.port) } }] }],
    },
  };
}

/** InboundPassthroughClusterIpv4: inbound traffic to ports no service declares goes to its original destination. */
export function inboundPassthroughCluster(proxy: MeshProxy): Body {
  return { ...passthroughCluster(INBOUND_PASSTHROUGH_CLUSTER), ...captureBind(proxy) };
}
