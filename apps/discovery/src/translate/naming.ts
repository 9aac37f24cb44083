/**
 * Resource names, exactly as Istio writes them, so operators and tools that
 * know Istio read Weft's config dumps unchanged.
 */

export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const VIRTUAL_INBOUND = 'virtualInbound';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const INBOUND_PASSTHROUGH_CLUSTER = 'InboundPassthroughClusterIpv4';

/** Capture ports of a sidecar (DESIGN.md "Ports"). */
export const OUTBOUND_CAPTURE_PORT = 15001;
export const INBOUND_CAPTURE_PORT = 15006;

export type Direction = 'outbound' | 'inbound';

/** `outbound|9080|v1|reviews.default.svc.cluster.local`, `outbound|9080||host`, `inbound|8080||`. */
export function clusterName(direction: Direction, port: number, subset = '', hostname = ''): string {
  return `${direction}|${port}|${subset}|${hostname}`;
}

/** The parts of a cluster name built by {@link clusterName}, or undefined for other names. */
export function parseClusterName(
  name: string,
): { direction: Direction; port: number; subset: string; hostname: string } | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const [direction, port, subset, hostname] = parts as [string, string, string, string];
  if (direction !== 'outbound' && direction !== 'inbound') return undefined;
  const number = Number(port);
  if (!Number.isInteger(number)) return undefined;
  return { direction, port: number, subset, hostname };
}

/** The SNI Istio uses for mTLS to a cluster: `outbound_.9080_.v1_.reviews.default.svc.cluster.local`. */
export function istioMtlsSni(port: number, subset: string, hostname: string): string {
  return `outbound_.${port}_.${subset}_.${hostname}`;
}

/** Per-port outbound listener: `0.0.0.0_9080`, or `VIP_PORT` for TCP services with a VIP. */
export function outboundListenerName(address: string, port: number): string {
  return `${address}_${port}`;
}

/** Sidecar HTTP outbound route configurations are named by port. */
export function outboundRouteName(port: number): string {
  return String(port);
}

/** Inline inbound HTTP route configuration name (`inbound|8080||`). */
export function inboundRouteName(port: number): string {
  return clusterName('inbound', port);
}

/** Gateway plain-HTTP route configuration: `http.8080`. */
export function gatewayHttpRouteName(port: number): string {
  return `http.${port}`;
}

/** Gateway HTTPS route configuration: `https.443.SERVERNAME.GATEWAY.NAMESPACE`. */
export function gatewayHttpsRouteName(
  port: number,
  serverName: string,
  gateway: string,
  namespace: string,
): string {
  return `https.${port}.${serverName}.${gateway}.${namespace}`;
}

/** Proxyless gRPC listeners and their route configurations: `host:port`. */
export function proxylessName(hostname: string, port: number): string {
  return `${hostname}:${port}`;
}

/** Virtual host name: `reviews.default.svc.cluster.local:9080`. */
export function virtualHostName(hostname: string, port: number): string {
  return `${hostname}:${port}`;
}
