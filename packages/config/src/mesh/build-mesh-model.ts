/**
 * ServiceEntry and WorkloadEntry to the mesh model, as Istio's
 * serviceentry controller does it.
 */
import type { ServiceEntryPort, WorkloadEntrySpec } from '../resources/networking-types.ts';
import type { ConfigObject, ServiceEntry, WorkloadEntry } from '../resources/resource-types.ts';
import type { Endpoint, MeshConfig, MeshModel, Service, ServicePort, Workload } from './mesh-types.ts';
import { protocolFromPort } from './protocol.ts';

/** The label that says whether a workload's proxy accepts mesh mTLS (`istio`) or not (`disabled`). */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/** `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * A MeshModel over services and endpoints from any source (Kubernetes or
 * ServiceEntry). The first service listed for a hostname wins; endpoints are
 * kept in the order given.
 */
export function createMeshModel(services: readonly Service[], endpoints: readonly Endpoint[]): MeshModel {
  const byHost = new Map<string, Service>();
  for (const service of services) if (!byHost.has(service.hostname)) byHost.set(service.hostname, service);
  const byPort = new Map<string, Endpoint[]>();
  for (const endpoint of endpoints) {
    const key = `${endpoint.hostname}:${endpoint.servicePort.number}`;
    const list = byPort.get(key) ?? [];
    list.push(endpoint);
    byPort.set(key, list);
  }
  const unique = [...byHost.values()];
  return {
    services: unique,
    service: (hostname) => byHost.get(hostname),
    endpoints: (hostname, port) => byPort.get(`${hostname}:${port}`) ?? [],
  };
}

/** The Workload a WorkloadEntry describes. */
export function workloadFromEntry(entry: WorkloadEntry): Workload {
  return toWorkload(entry.spec, entry.metadata.name, entry.metadata.namespace);
}

function toWorkload(spec: WorkloadEntrySpec, name: string, namespace: string): Workload {
  return {
    name,
    namespace,
    address: spec.address ?? '',
    ports: { ...(spec.ports ?? {}) },
    labels: { ...(spec.labels ?? {}) },
    serviceAccount: spec.serviceAccount ?? 'default',
    // Istio's getTLSModeFromWorkloadEntry: the label, else a named service account means a meshed workload.
    tlsMode: spec.labels?.[TLS_MODE_LABEL] ?? (spec.serviceAccount ? 'istio' : 'disabled'),
    locality: spec.locality ?? '',
    network: spec.network ?? '',
    weight: spec.weight ?? 1,
    healthy: true,
  };
}

function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

/** A WorkloadEntry as a member of services: its Workload (built once) and its `namespace/name`. */
type Member = readonly [Workload, string];

/** Members by WorkloadEntry object: an entry the store kept unchanged keeps its Member (and Workload). */
const members = new WeakMap<WorkloadEntry, Member>();

function memberOf(entry: WorkloadEntry): Member {
  let member = members.get(entry);
  if (!member) {
    member = [workloadFromEntry(entry), `${entry.metadata.namespace}/${entry.metadata.name}`];
    members.set(entry, member);
  }
  return member;
}

/** What one ServiceEntry adds to the model, and the inputs that decided it. */
interface Contribution {
  trustDomain: string;
  /** The selected members; undefined for an entry without a workloadSelector. */
  selected: readonly Member[] | undefined;
  services: readonly Service[];
  endpoints: readonly Endpoint[];
}

/**
 * Contributions by ServiceEntry object. A later build reuses one when the
 * entry is the same object, the trust domain the same and its selector picks
 * the same Member objects: a change to one service's WorkloadEntries
 * rebuilds that service only, and unchanged services keep their Service and
 * Endpoint objects from one build to the next.
 */
const contributions = new WeakMap<ServiceEntry, Contribution>();

function sameMembers(a: readonly Member[] | undefined, b: readonly Member[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((member, i) => member === b[i]);
}

/**
 * WorkloadEntries of one namespace, in name order, and by `label=value`, so a
 * selector looks only at the entries carrying its rarest label instead of
 * every entry of the mesh.
 */
interface NamespaceWorkloads {
  all: Member[];
  byLabel: Map<string, Member[]>;
}

function labelKey(key: string, value: string): string {
  return `${key}=${value}`;
}

function indexWorkloads(entries: readonly WorkloadEntry[]): Map<string, NamespaceWorkloads> {
  const byNamespace = new Map<string, NamespaceWorkloads>();
  for (const entry of entries) {
    const { namespace } = entry.metadata;
    let index = byNamespace.get(namespace);
    if (!index) {
      index = { all: [], byLabel: new Map() };
      byNamespace.set(namespace, index);
    }
    const member = memberOf(entry);
    index.all.push(member);
    for (const [key, value] of Object.entries(member[0].labels)) {
      const label = labelKey(key, value);
      const list = index.byLabel.get(label);
      if (list) list.push(member);
      else index.byLabel.set(label, [member]);
    }
  }
  return byNamespace;
}

/** The members of `index` whose labels `selector` selects, in name order. */
function selectMembers(index: NamespaceWorkloads | undefined, selector: Record<string, string>): Member[] {
  if (!index) return [];
  let candidates = index.all;
  for (const [key, value] of Object.entries(selector)) {
    const list = index.byLabel.get(labelKey(key, value)) ?? [];
    if (list.length < candidates.length) candidates = list;
  }
  return candidates.filter(([workload]) => matchesSelector(workload.labels, selector));
}

/** The workload port for a service port: the workload's port of that name, else targetPort, else the port number. */
function targetPortOf(workload: Workload, port: ServicePort): number {
  return workload.ports[port.name] ?? port.targetPort ?? port.number;
}

function toServicePort(port: ServiceEntryPort): ServicePort {
  const out: ServicePort = { name: port.name, number: port.number, protocol: protocolFromPort(port) };
  if (port.targetPort !== undefined) out.targetPort = port.targetPort;
  return out;
}

function endpointOf(service: Service, port: ServicePort, workload: Workload, id: string): Endpoint {
  return {
    hostname: service.hostname,
    servicePort: port,
    address: workload.address,
    port: targetPortOf(workload, port),
    labels: workload.labels,
    serviceAccount: workload.serviceAccount,
    tlsMode: workload.tlsMode,
    locality: workload.locality,
    network: workload.network,
    weight: workload.weight,
    healthy: workload.healthy,
    workload: id,
  };
}

/**
 * The mesh model of `objects`: one Service per ServiceEntry host, with
 * endpoints from its inline `endpoints`, from the WorkloadEntries in its
 * namespace that its `workloadSelector` selects, or (DNS resolution without
 * either) the host itself. `Service.serviceAccounts` holds SPIFFE IDs of the
 * endpoints' service accounts and the entry's `subjectAltNames`. Objects of
 * other kinds are ignored. ServiceEntries are read in namespace/name order,
 * so the first one defining a hostname wins deterministically.
 *
 * Pure in what it returns; it remembers, per ServiceEntry and WorkloadEntry
 * object, what it built, so a later call over mostly the same objects (as a
 * store keeps them) rebuilds only the ServiceEntries that changed or whose
 * selected WorkloadEntries changed, and returns the very same Service and
 * Endpoint objects for the others. Do not mutate the returned objects.
 */
export function buildMeshModel(objects: readonly ConfigObject[], mesh: MeshConfig): MeshModel {
  const entries = sortedById(objects.filter((o): o is ServiceEntry => o.kind === 'ServiceEntry'));
  const workloads = indexWorkloads(
    sortedById(objects.filter((o): o is WorkloadEntry => o.kind === 'WorkloadEntry')),
  );
  const services: Service[] = [];
  const endpoints: Endpoint[] = [];
  for (const entry of entries) {
    const selector = entry.spec.workloadSelector;
    const selected = selector
      ? selectMembers(workloads.get(entry.metadata.namespace), selector.labels ?? {})
      : undefined;
    let contribution = contributions.get(entry);
    if (
      !contribution ||
      contribution.trustDomain !== mesh.trustDomain ||
      !sameMembers(contribution.selected, selected)
    ) {
      contribution = contribute(entry, selected, mesh.trustDomain);
      contributions.set(entry, contribution);
    }
    for (const service of contribution.services) services.push(service);
    for (const endpoint of contribution.endpoints) endpoints.push(endpoint);
  }
  return createMeshModel(services, endpoints);
}

/** The services (one per host) and endpoints of one ServiceEntry, given the WorkloadEntries its selector picked. */
function contribute(
  entry: ServiceEntry,
  selected: readonly Member[] | undefined,
  trustDomain: string,
): Contribution {
  const { spec, metadata } = entry;
  const ports = (spec.ports ?? []).map(toServicePort);
  const members: readonly Member[] =
    selected ??
    (spec.endpoints ?? []).map((e, i) => [
      toWorkload(e, `${metadata.name}[${i}]`, metadata.namespace),
      `ServiceEntry ${metadata.namespace}/${metadata.name}[${i}]`,
    ]);
  const accounts = new Set<string>(spec.subjectAltNames ?? []);
  for (const [workload] of members)
    accounts.add(spiffeId(trustDomain, workload.namespace, workload.serviceAccount));
  const resolution = spec.resolution ?? 'NONE';
  const services: Service[] = [];
  const endpoints: Endpoint[] = [];
  for (const hostname of spec.hosts) {
    const service: Service = {
      hostname,
      namespace: metadata.namespace,
      addresses: [...(spec.addresses ?? [])],
      ports,
      resolution,
      location: spec.location ?? 'MESH_EXTERNAL',
      labels: { ...(metadata.labels ?? {}) },
      exportTo: [...(spec.exportTo ?? ['*'])],
      serviceAccounts: [...accounts].sort(),
      origin: { kind: 'ServiceEntry', namespace: metadata.namespace, name: metadata.name },
    };
    services.push(service);
    const dnsSelf =
      members.length === 0 &&
      !spec.workloadSelector &&
      (resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') &&
      !hostname.startsWith('*');
    for (const port of ports) {
      for (const [workload, id] of members) endpoints.push(endpointOf(service, port, workload, id));
      if (dnsSelf) {
        const self = toWorkload({ address: hostname }, hostname, metadata.namespace);
        endpoints.push(
          endpointOf(service, port, self, `ServiceEntry ${metadata.namespace}/${metadata.name}`),
        );
      }
    }
  }
  return { trustDomain, selected, services, endpoints };
}

/** `objects` sorted by namespace/name (each key computed once). */
function sortedById<T extends ConfigObject>(objects: readonly T[]): T[] {
  return objects
    .map((object) => ({ object, key: `${object.metadata.namespace}/${object.metadata.name}` }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ object }) => object);
}
