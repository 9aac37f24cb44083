/**
 * Protocol selection, following Istio's rules.
 *
 * @see https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
import type { MeshConfig, Protocol } from './mesh-types.ts';

const BY_NAME: Record<string, Protocol> = {
  http: 'HTTP',
  http_proxy: 'HTTP',
  'grpc-web': 'HTTP',
  http2: 'HTTP2',
  https: 'HTTPS',
  grpc: 'GRPC',
  tls: 'TLS',
  tcp: 'TCP',
  mongo: 'MONGO',
  redis: 'REDIS',
  mysql: 'MYSQL',
  udp: 'UDP',
};

/** The protocol names Istio accepts in `protocol` fields, for messages. */
export const PROTOCOL_NAMES: readonly string[] = [
  'HTTP',
  'HTTPS',
  'HTTP2',
  'GRPC',
  'GRPC-WEB',
  'TLS',
  'TCP',
  'UDP',
  'MONGO',
  'REDIS',
  'MYSQL',
];

/** Kubernetes' well-known appProtocol values (KEP-3726). */
const KUBERNETES_APP_PROTOCOLS: Record<string, Protocol> = {
  'kubernetes.io/h2c': 'HTTP2',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'HTTPS',
};

/** Istio protocol for a protocol name (case-insensitive), or undefined when it is not one. */
export function parseProtocol(value: string): Protocol | undefined {
  const lower = value.toLowerCase();
  return BY_NAME[lower] ?? KUBERNETES_APP_PROTOCOLS[lower];
}

/**
 * The protocol of a port, as Istio selects it:
 * 1. an explicit Istio `protocol` (ServiceEntry, Gateway, Sidecar ports);
 * 2. `appProtocol` (Kubernetes Service ports);
 * 3. the port name, `<protocol>` or `<protocol>-<suffix>` (`http-web`, `grpc`);
 * 4. otherwise `UNSUPPORTED`, which Istio treats as "not declared": the proxy
 *    detects HTTP/1.1 and HTTP/2 by sniffing and falls back to plain TCP.
 *
 * Kubernetes callers: a Service port's `protocol` is a transport (TCP by
 * default), not an Istio protocol; pass it only when it is `UDP`.
 */
export function protocolFromPort(port: { protocol?: string; name?: string; appProtocol?: string }): Protocol {
  if (port.protocol) {
    const explicit = parseProtocol(port.protocol);
    if (explicit) return explicit;
  }
  if (port.appProtocol) {
    const app = parseProtocol(port.appProtocol);
    if (app) return app;
  }
  if (port.name) {
    const lower = port.name.toLowerCase();
    if (lower.startsWith('grpc-web')) return 'HTTP';
    const prefix = lower.split('-', 1)[0] ?? '';
    const named = BY_NAME[prefix];
    if (named) return named;
  }
  return 'UNSUPPORTED';
}

/**
 * Mesh defaults: trust domain and DNS suffix `cluster.local`, root namespace
 * `istio-system`, outbound ALLOW_ANY, mTLS PERMISSIVE. `overrides` win.
 */
export function defaultMeshConfig(overrides: Partial<MeshConfig> = {}): MeshConfig {
  return {
    trustDomain: 'cluster.local',
    rootNamespace: 'istio-system',
    domainSuffix: 'cluster.local',
    outboundTrafficPolicy: 'ALLOW_ANY',
    defaultMtlsMode: 'PERMISSIVE',
    ...overrides,
  };
}
