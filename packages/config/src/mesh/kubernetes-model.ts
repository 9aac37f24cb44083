/**
 * Kubernetes Services and EndpointSlices onto the mesh model, the same model
 * ServiceEntry and WorkloadEntry map onto. The inputs are structural (the
 * fields of the Kubernetes objects Weft reads), so this package needs no
 * Kubernetes client; the discovery server passes the objects its watches get.
 *
 * @see https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
import { spiffeId, TLS_MODE_LABEL } from './build-mesh-model.ts';
import type { Endpoint, MeshConfig, Service, ServicePort } from './mesh-types.ts';
import { protocolFromPort } from './protocol.ts';

export interface KubernetesServiceInput {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    ports?: {
      name?: string;
      port: number;
      targetPort?: number | string;
      protocol?: string;
      appProtocol?: string;
    }[];
  };
}

export interface KubernetesEndpointSliceInput {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string; namespace?: string };
    zone?: string;
    nodeName?: string;
  }[];
  ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}

/** What the discovery server knows about the pod behind an endpoint. */
export interface PodInfo {
  labels: Record<string, string>;
  serviceAccount: string;
  /** `region/zone/subzone`; when absent the slice's zone is used. */
  locality?: string;
  network?: string;
}

/** The label an EndpointSlice names its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Istio's annotation restricting where a Service is visible. */
export const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

/**
 * The Service for a Kubernetes Service: hostname
 * `<name>.<namespace>.svc.<domainSuffix>`, cluster IPs as addresses (none for
 * headless), ports with Istio's protocol selection (a Kubernetes `protocol`
 * counts only when it is UDP; an SCTP port is UNSUPPORTED), numeric
 * `targetPort` kept. ExternalName services resolve by DNS. `serviceAccounts`
 * is left empty: `withServiceAccounts` fills it from the endpoints.
 */
export function serviceFromKubernetes(input: KubernetesServiceInput, mesh: MeshConfig): Service {
  const { metadata, spec } = input;
  const ips = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter(
    (ip) => ip !== '' && ip !== 'None',
  );
  const external = spec.type === 'ExternalName';
  const exportTo = metadata.annotations?.[EXPORT_TO_ANNOTATION]
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    hostname: `${metadata.name}.${metadata.namespace}.svc.${mesh.domainSuffix}`,
    namespace: metadata.namespace,
    addresses: external ? [] : ips,
    ports: (spec.ports ?? []).map((port) => {
      const transport = port.protocol?.toUpperCase();
      const protocol =
        transport === 'SCTP'
          ? 'UNSUPPORTED'
          : protocolFromPort({
              ...(transport === 'UDP' ? { protocol: 'UDP' } : {}),
              ...(port.name ? { name: port.name } : {}),
              ...(port.appProtocol ? { appProtocol: port.appProtocol } : {}),
            });
      const out: ServicePort = { name: port.name ?? '', number: port.port, protocol };
      if (typeof port.targetPort === 'number') out.targetPort = port.targetPort;
      return out;
    }),
    resolution: external ? 'DNS' : ips.length === 0 ? 'NONE' : 'STATIC',
    location: 'MESH_INTERNAL',
    labels: { ...(metadata.labels ?? {}) },
    exportTo: exportTo && exportTo.length > 0 ? exportTo : ['*'],
    serviceAccounts: [],
    origin: { kind: 'Service', namespace: metadata.namespace, name: metadata.name },
  };
}

/**
 * The endpoints an EndpointSlice gives `service`: one per address and per
 * service port the slice serves (matched by port name, as Kubernetes names
 * slice ports after service ports). `healthy` is the `ready` condition
 * (absent means ready). Pod labels, service account and locality come from
 * `pods` when it knows the `targetRef` pod; otherwise labels are empty, the
 * account is `default` and the locality is the slice's zone.
 */
export function endpointsFromEndpointSlice(
  slice: KubernetesEndpointSliceInput,
  service: Service,
  pods: (namespace: string, name: string) => PodInfo | undefined = () => undefined,
): Endpoint[] {
  if (slice.addressType === 'FQDN') return [];
  const out: Endpoint[] = [];
  for (const endpoint of slice.endpoints ?? []) {
    const ref = endpoint.targetRef;
    const podName = ref?.kind === 'Pod' ? ref.name : undefined;
    const podNamespace = ref?.namespace ?? slice.metadata.namespace;
    const pod = podName ? pods(podNamespace, podName) : undefined;
    for (const slicePort of slice.ports ?? []) {
      const servicePort = service.ports.find((p) => p.name === (slicePort.name ?? ''));
      if (!servicePort || slicePort.port === undefined) continue;
      for (const address of endpoint.addresses) {
        out.push({
          hostname: service.hostname,
          servicePort,
          address,
          port: slicePort.port,
          labels: { ...(pod?.labels ?? {}) },
          serviceAccount: pod?.serviceAccount ?? 'default',
          // Istio's GetTLSModeFromEndpointLabels: only the (injected) label says a pod has a proxy.
          tlsMode: pod?.labels[TLS_MODE_LABEL] ?? 'disabled',
          locality: pod?.locality ?? endpoint.zone ?? '',
          network: pod?.network ?? '',
          weight: 1,
          healthy: endpoint.conditions?.ready !== false,
          workload: podName
            ? `${podNamespace}/${podName}`
            : `EndpointSlice ${slice.metadata.namespace}/${slice.metadata.name}`,
        });
      }
    }
  }
  return out;
}

/** `service` with `serviceAccounts` set to the SPIFFE IDs of its endpoints' accounts (sorted, unique). */
export function withServiceAccounts(
  service: Service,
  endpoints: readonly Endpoint[],
  mesh: MeshConfig,
): Service {
  const accounts = new Set(service.serviceAccounts);
  for (const endpoint of endpoints) {
    if (endpoint.hostname === service.hostname)
      accounts.add(spiffeId(mesh.trustDomain, service.namespace, endpoint.serviceAccount));
  }
  return { ...service, serviceAccounts: [...accounts].sort() };
}
