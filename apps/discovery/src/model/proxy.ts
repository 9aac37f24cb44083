/**
 * The proxy a discovery stream serves, read from the xDS `node` the way Istio
 * reads it: the node id `TYPE~IP~ID~DNSDOMAIN` plus node metadata keys.
 *
 * @see https://istio.io/latest/docs/ops/diagnostic-tools/proxy-cmd/ (node ids)
 */

/** What a proxy is, as far as translation is concerned. Immutable by convention. */
export interface Proxy {
  /** The node id exactly as sent. */
  id: string;
  /** `sidecar` (also proxyless gRPC clients) or `router` (gateways). */
  type: 'sidecar' | 'router';
  /** The workload's addresses: INSTANCE_IPS metadata, else the IP of the node id. */
  ipAddresses: string[];
  /** Pod or workload name: WORKLOAD_NAME metadata, else the name part of `NAME.NAMESPACE`. */
  workloadName: string;
  namespace: string;
  /** The DNS domain of the node id, e.g. `default.svc.cluster.local`. */
  dnsDomain: string;
  serviceAccount?: string;
  labels: Record<string, string>;
  /** `grpc` for proxyless gRPC clients (metadata GENERATOR). */
  generator?: 'grpc';
  clusterId?: string;
  /** `region/zone/subzone` from the node's locality, '' when unknown. */
  locality?: string;
  /** The raw node metadata. */
  metadata: Record<string, unknown>;
}

/** The part of an xDS node that {@link parseProxy} reads. */
export interface ProxyNode {
  id: string;
  metadata: Record<string, unknown>;
  locality?: { region?: string; zone?: string; subZone?: string };
}

export type ParseProxyResult = { ok: true; proxy: Proxy } | { ok: false; problems: string[] };

const NODE_TYPES = new Set(['sidecar', 'router']);

function stringField(metadata: Record<string, unknown>, key: string, problems: string[]): string | undefined {
  const value = metadata[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  problems.push(`node.metadata.${key}: expected a string, got ${typeof value}`);
  return undefined;
}

function labelsField(metadata: Record<string, unknown>, problems: string[]): Record<string, string> {
  const value = metadata.LABELS;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push('node.metadata.LABELS: expected an object of string values');
    return {};
  }
  const labels: Record<string, string> = {};
  for (const [key, label] of Object.entries(value)) {
    if (typeof label !== 'string') {
      problems.push(`node.metadata.LABELS.${key}: expected a string, got ${typeof label}`);
      continue;
    }
    labels[key] = label;
  }
  return labels;
}

function localityOf(node: ProxyNode): string {
  const { region = '', zone = '', subZone = '' } = node.locality ?? {};
  if (!region && !zone && !subZone) return '';
  return [region, zone, subZone].join('/');
}

/**
 * Reads a proxy from an xDS node. Never throws: a malformed node yields every
 * problem found, each naming the field.
 *
 * Envoy sidecars and gateways must send `TYPE~IP~NAME.NAMESPACE~DNSDOMAIN`.
 * Proxyless gRPC clients (metadata `GENERATOR: grpc`) may send any id; their
 * namespace comes from metadata NAMESPACE, then the id, then `default`.
 */
export function parseProxy(node: ProxyNode): ParseProxyResult {
  const problems: string[] = [];
  const metadata = node.metadata ?? {};
  const generatorValue = stringField(metadata, 'GENERATOR', problems);
  const generator = generatorValue === 'grpc' ? 'grpc' : undefined;
  if (generatorValue !== undefined && generator === undefined) {
    problems.push(`node.metadata.GENERATOR: unsupported generator "${generatorValue}" (only "grpc")`);
  }
  const parts = node.id.split('~');
  const wellFormed = parts.length === 4 && NODE_TYPES.has(parts[0]!) && parts[2]!.includes('.');
  if (!wellFormed && generator !== 'grpc') {
    problems.push(
      `node.id: "${node.id}" is not TYPE~IP~NAME.NAMESPACE~DNSDOMAIN with TYPE sidecar or router`,
    );
  }
  const [idType, idIp, idName, idDomain] = wellFormed ? parts : ['sidecar', '', '', ''];
  const dot = idName!.indexOf('.');
  const nameFromId = dot > 0 ? idName!.slice(0, dot) : idName!;
  const namespaceFromId = dot > 0 ? idName!.slice(dot + 1) : '';
  const namespace = stringField(metadata, 'NAMESPACE', problems) ?? (namespaceFromId || 'default');
  const instanceIps = stringField(metadata, 'INSTANCE_IPS', problems);
  const ipAddresses = (instanceIps ?? idIp ?? '')
    .split(',')
    .map((ip) => ip.trim())
    .filter((ip) => ip !== '');
  const labels = labelsField(metadata, problems);
  const workloadName = stringField(metadata, 'WORKLOAD_NAME', problems) ?? nameFromId;
  const serviceAccount = stringField(metadata, 'SERVICE_ACCOUNT', problems);
  const clusterId = stringField(metadata, 'CLUSTER_ID', problems);
  if (problems.length > 0) return { ok: false, problems };
  const proxy: Proxy = {
    id: node.id,
    type: idType === 'router' ? 'router' : 'sidecar',
    ipAddresses,
    workloadName,
    namespace,
    dnsDomain: idDomain ?? '',
    labels,
    locality: localityOf(node),
    metadata,
  };
  if (serviceAccount !== undefined) proxy.serviceAccount = serviceAccount;
  if (generator !== undefined) proxy.generator = generator;
  if (clusterId !== undefined) proxy.clusterId = clusterId;
  return { ok: true, proxy };
}
