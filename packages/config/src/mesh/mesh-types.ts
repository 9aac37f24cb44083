/**
 * The mesh model the control plane computes on: services, workloads and
 * endpoints, whatever they were read from (Kubernetes Services and
 * EndpointSlices, or ServiceEntry and WorkloadEntry).
 */

/** Istio's protocol names. */
export type Protocol =
  | 'HTTP'
  | 'HTTP2'
  | 'HTTPS'
  | 'GRPC'
  | 'TLS'
  | 'TCP'
  | 'MONGO'
  | 'REDIS'
  | 'MYSQL'
  | 'UDP'
  | 'UNSUPPORTED';

export type MtlsModeDefault = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** Mesh-wide settings (Istio's MeshConfig, reduced to what Weft uses). */
export interface MeshConfig {
  /** SPIFFE trust domain, e.g. `cluster.local`. */
  trustDomain: string;
  /** Namespace whose policies apply mesh-wide, e.g. `istio-system`. */
  rootNamespace: string;
  /** DNS suffix of service hostnames, e.g. `cluster.local`. */
  domainSuffix: string;
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** mTLS mode of a workload no PeerAuthentication selects. */
  defaultMtlsMode: MtlsModeDefault;
}

export interface ServicePort {
  name: string;
  number: number;
  protocol: Protocol;
  /** Port on the workload when it differs from `number`. */
  targetPort?: number;
}

export interface Service {
  /** Fully qualified hostname, e.g. `reviews.default.svc.cluster.local`. */
  hostname: string;
  namespace: string;
  /** Virtual IPs (ServiceEntry `addresses`, Kubernetes ClusterIP). */
  addresses: string[];
  ports: ServicePort[];
  resolution: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  labels: Record<string, string>;
  exportTo: string[];
  serviceAccounts: string[];
  /** The resource this service came from. */
  origin: { kind: string; namespace: string; name: string };
}

export interface Workload {
  name: string;
  namespace: string;
  address: string;
  /** Port name to port number on the workload. */
  ports: Record<string, number>;
  labels: Record<string, string>;
  /** The account the workload runs as; `default` when its source named none. */
  serviceAccount: string;
  /**
   * Whether its proxy accepts mesh mTLS, as Istio decides it: the
   * `security.istio.io/tlsMode` label's value when present (`istio`,
   * `disabled`, or a custom transport socket match); else `istio` when the
   * WorkloadEntry names a `serviceAccount`; else `disabled`.
   */
  tlsMode: string;
  /** `region/zone/subzone`, may be ''. */
  locality: string;
  network: string;
  weight: number;
  healthy: boolean;
}

/** One address:port that serves a service port. */
export interface Endpoint {
  hostname: string;
  servicePort: ServicePort;
  address: string;
  port: number;
  labels: Record<string, string>;
  serviceAccount: string;
  /**
   * The workload's `tlsMode` (see Workload): `istio` when its proxy accepts
   * mesh mTLS. Kubernetes endpoints: the pod's `security.istio.io/tlsMode`
   * label (the injector sets it), else `disabled`; a DNS ServiceEntry's own
   * host: `disabled`.
   */
  tlsMode: string;
  locality: string;
  network: string;
  weight: number;
  healthy: boolean;
  /** `namespace/name` of the workload, or `ServiceEntry namespace/name[i]` for inline endpoints. */
  workload: string;
}

/** An immutable view of services and their endpoints. */
export interface MeshModel {
  readonly services: readonly Service[];
  service(hostname: string): Service | undefined;
  /** Endpoints of the service port `port` (the service's port number); [] when unknown. */
  endpoints(hostname: string, port: number): readonly Endpoint[];
}
