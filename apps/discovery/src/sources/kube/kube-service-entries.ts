/**
 * Kubernetes Services, EndpointSlices, Pods, Nodes and Namespaces onto the
 * mesh model. @weft/config maps a Service and its EndpointSlices to the
 * model's Service and Endpoints (`serviceFromKubernetes`,
 * `endpointsFromEndpointSlice`); the push context reads only the config
 * store, so this module writes each Kubernetes Service as the ServiceEntry
 * (MESH_INTERNAL, inline endpoints) that `buildMeshModel` turns back into
 * the same Service and Endpoints. Pure: no client, no I/O.
 *
 * Endpoints that are not ready are left out, as Istio leaves them out of EDS
 * by default (PILOT_SEND_UNHEALTHY_ENDPOINTS=false).
 */
import {
  type Endpoint,
  endpointsFromEndpointSlice,
  type KubernetesEndpointSliceInput,
  type KubernetesServiceInput,
  type MeshConfig,
  type PodInfo,
  SERVICE_NAME_LABEL,
  type ServiceEntry,
  serviceFromKubernetes,
  TLS_MODE_LABEL,
  type WorkloadEntrySpec,
} from '@weft/config';

/** The parts of a Pod the mesh model reads. */
export interface KubernetesPodInput {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec?: { serviceAccountName?: string; nodeName?: string };
}

/** The parts of a Node or Namespace the mesh model reads: its labels. */
export interface KubernetesLabelledInput {
  metadata: { name: string; labels?: Record<string, string> };
}

/** Everything the Kubernetes source has cached, read through lookups. */
export interface KubernetesInventory {
  services: readonly KubernetesServiceInput[];
  endpointSlices: readonly KubernetesEndpointSliceInput[];
  pod(namespace: string, name: string): KubernetesPodInput | undefined;
  node(name: string): KubernetesLabelledInput | undefined;
  namespace(name: string): KubernetesLabelledInput | undefined;
}

/** Node labels Istio reads locality from. */
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const SUBZONE_LABEL = 'topology.istio.io/subzone';
/** Pod or Namespace label naming the workload's network. */
export const NETWORK_LABEL = 'topology.istio.io/network';
/** Annotation on a generated ServiceEntry naming the Kubernetes Service it stands for. */
export const GENERATED_FROM_ANNOTATION = 'weft.io/generated-from';

/** `region/zone/subzone` from node labels, trailing empty parts dropped; '' when the node has none. */
export function localityOf(node: KubernetesLabelledInput | undefined): string {
  const labels = node?.metadata.labels ?? {};
  const parts = [labels[REGION_LABEL] ?? '', labels[ZONE_LABEL] ?? '', labels[SUBZONE_LABEL] ?? ''];
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('/');
}

/**
 * What the mesh knows about a pod: its labels, `serviceAccountName` (default
 * `default`), the locality of its node and the network from its own or its
 * namespace's `topology.istio.io/network` label.
 */
export function podInfoOf(
  inventory: KubernetesInventory,
  namespace: string,
  name: string,
): PodInfo | undefined {
  const pod = inventory.pod(namespace, name);
  if (!pod) return undefined;
  const nodeName = pod.spec?.nodeName;
  const locality = localityOf(nodeName ? inventory.node(nodeName) : undefined);
  const network =
    pod.metadata.labels?.[NETWORK_LABEL] ?? inventory.namespace(namespace)?.metadata.labels?.[NETWORK_LABEL];
  return {
    labels: { ...(pod.metadata.labels ?? {}) },
    serviceAccount: pod.spec?.serviceAccountName || 'default',
    ...(locality === '' ? {} : { locality }),
    ...(network === undefined ? {} : { network }),
  };
}

/**
 * The endpoint's labels, with `security.istio.io/tlsMode` set to its
 * `tlsMode` when the pod has no such label: an inline WorkloadEntry that
 * names a serviceAccount (every Kubernetes endpoint does) would otherwise
 * come out `istio`, while a pod without the label (no sidecar) is `disabled`.
 */
function labelsWithTlsMode(endpoint: Endpoint): Record<string, string> {
  if (endpoint.labels[TLS_MODE_LABEL] !== undefined) return endpoint.labels;
  return { ...endpoint.labels, [TLS_MODE_LABEL]: endpoint.tlsMode };
}

/**
 * Ready endpoints grouped per workload address: one inline WorkloadEntry
 * with a port per service port, keeping the endpoint's `tlsMode`.
 */
function inlineEndpoints(endpoints: readonly Endpoint[]): WorkloadEntrySpec[] {
  const byWorkload = new Map<string, WorkloadEntrySpec>();
  for (const endpoint of endpoints) {
    if (!endpoint.healthy) continue;
    const key = `${endpoint.workload}\n${endpoint.address}`;
    let entry = byWorkload.get(key);
    if (!entry) {
      entry = {
        address: endpoint.address,
        ports: {},
        labels: labelsWithTlsMode(endpoint),
        serviceAccount: endpoint.serviceAccount,
        ...(endpoint.locality === '' ? {} : { locality: endpoint.locality }),
        ...(endpoint.network === '' ? {} : { network: endpoint.network }),
      };
      byWorkload.set(key, entry);
    }
    if (entry.ports) entry.ports[endpoint.servicePort.name] = endpoint.port;
  }
  return [...byWorkload.values()];
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The ServiceEntry standing for one Service with its (sorted) EndpointSlices. */
function serviceEntryOf(
  input: KubernetesServiceInput,
  slices: readonly KubernetesEndpointSliceInput[],
  inventory: KubernetesInventory,
  mesh: MeshConfig,
  taken: boolean,
): ServiceEntry {
  const { name, namespace } = input.metadata;
  const service = serviceFromKubernetes(input, mesh);
  const pods = (ns: string, pod: string) => podInfoOf(inventory, ns, pod);
  const endpoints = slices.flatMap((slice) => endpointsFromEndpointSlice(slice, service, pods));
  const external = input.spec.type === 'ExternalName' && input.spec.externalName;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: {
      name: taken ? `${name}~kubernetes` : name,
      namespace,
      ...(input.metadata.labels ? { labels: { ...input.metadata.labels } } : {}),
      annotations: { [GENERATED_FROM_ANNOTATION]: `Service ${namespace}/${name}` },
    },
    spec: {
      hosts: [service.hostname],
      addresses: service.addresses,
      ports: service.ports.map((port) => ({
        name: port.name,
        number: port.number,
        protocol: port.protocol,
        ...(port.targetPort === undefined ? {} : { targetPort: port.targetPort }),
      })),
      location: 'MESH_INTERNAL',
      resolution: service.resolution,
      exportTo: service.exportTo,
      endpoints: external ? [{ address: external }] : inlineEndpoints(endpoints),
    },
  };
}

/**
 * Everything a Service's entry is computed from, as object identities: the
 * Service, its slices, and each endpoint's pod, node and namespace. Informer
 * caches replace an object on every change, so equal identities mean an
 * unchanged entry.
 */
function dependenciesOf(
  input: KubernetesServiceInput,
  slices: readonly KubernetesEndpointSliceInput[],
  inventory: KubernetesInventory,
  taken: boolean,
): unknown[] {
  const deps: unknown[] = [input, taken, ...slices];
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      const ref = endpoint.targetRef;
      if (ref?.kind !== 'Pod' || !ref.name) continue;
      const namespace = ref.namespace ?? slice.metadata.namespace;
      const pod = inventory.pod(namespace, ref.name);
      const nodeName = pod?.spec?.nodeName;
      deps.push(pod, nodeName ? inventory.node(nodeName) : undefined, inventory.namespace(namespace));
    }
  }
  return deps;
}

function sameDependencies(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Builds the ServiceEntries of an inventory; see `serviceEntriesFromKubernetes`. */
export type ServiceEntryBuilder = (
  inventory: KubernetesInventory,
  taken?: (namespace: string, name: string) => boolean,
) => ServiceEntry[];

/**
 * A `serviceEntriesFromKubernetes` that remembers each Service's entry and
 * reuses it while none of its inputs changed (by object identity, as
 * informer caches replace changed objects), so a pod status update costs one
 * Service's work, not the whole cluster's.
 */
export function createServiceEntryBuilder(mesh: MeshConfig): ServiceEntryBuilder {
  let cache = new Map<string, { deps: unknown[]; entry: ServiceEntry }>();
  return (inventory, taken = () => false) => {
    const slicesByService = new Map<string, KubernetesEndpointSliceInput[]>();
    for (const slice of inventory.endpointSlices) {
      const owner = slice.metadata.labels?.[SERVICE_NAME_LABEL];
      if (owner === undefined) continue;
      const key = `${slice.metadata.namespace}/${owner}`;
      const list = slicesByService.get(key) ?? [];
      list.push(slice);
      slicesByService.set(key, list);
    }
    const next = new Map<string, { deps: unknown[]; entry: ServiceEntry }>();
    const entries: ServiceEntry[] = [];
    for (const input of inventory.services) {
      const { name, namespace } = input.metadata;
      const key = `${namespace}/${name}`;
      const slices = [...(slicesByService.get(key) ?? [])].sort((a, b) =>
        compareText(a.metadata.name, b.metadata.name),
      );
      const isTaken = taken(namespace, name);
      const deps = dependenciesOf(input, slices, inventory, isTaken);
      const cached = cache.get(key);
      const entry =
        cached && sameDependencies(cached.deps, deps)
          ? cached.entry
          : serviceEntryOf(input, slices, inventory, mesh, isTaken);
      next.set(key, { deps, entry });
      entries.push(entry);
    }
    cache = next;
    return entries.sort(
      (a, b) =>
        compareText(a.metadata.namespace, b.metadata.namespace) ||
        compareText(a.metadata.name, b.metadata.name),
    );
  };
}

/**
 * One ServiceEntry per Kubernetes Service: host `name.namespace.svc.<domainSuffix>`,
 * ClusterIP addresses, ports with Istio's protocol selection and numeric
 * target ports, exportTo from `networking.istio.io/exportTo`, and the ready
 * addresses of the Service's EndpointSlices (matched by the
 * `kubernetes.io/service-name` label) with pod labels (plus
 * `security.istio.io/tlsMode: disabled` when the pod has no such label),
 * service account,
 * locality and network. ExternalName Services resolve their external name by
 * DNS. The entry is named after the Service; when `taken(namespace, name)`
 * (an Istio ServiceEntry of that name exists) it is named `name~kubernetes`.
 * Sorted by namespace then name.
 */
export function serviceEntriesFromKubernetes(
  inventory: KubernetesInventory,
  mesh: MeshConfig,
  taken: (namespace: string, name: string) => boolean = () => false,
): ServiceEntry[] {
  return createServiceEntryBuilder(mesh)(inventory, taken);
}
