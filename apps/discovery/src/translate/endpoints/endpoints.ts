/**
 * EDS: one ClusterLoadAssignment per EDS cluster, endpoints grouped by
 * locality with health and weights, subsets selected by labels, and
 * locality-failover priorities when the DestinationRule asks for them.
 *
 * Every LocalityLbEndpoints carries a `locality` object and a weight, and
 * priorities are contiguous from 0: gRPC's proxyless client rejects or drops
 * anything else (grpc-js-xds endpoint-resource-type.ts).
 */
import { isIP } from 'node:net';
import type { Endpoint, LocalityLoadBalancerSetting } from '@weft/config';
import { labelsMatch } from '../../model/hosts.ts';
import type { OutboundCluster } from '../clusters/outbound-clusters.ts';
import { effectivePolicy } from '../clusters/traffic-policy.ts';
import type { TranslateContext } from '../context.ts';
import { type Body, socketAddress } from '../envoy/values.ts';
import { endpointAcceptsMtls, tlsModeMetadata } from '../security/auto-mtls.ts';

/** `region/zone/subzone` -> Envoy Locality (empty parts left out). */
export function localityOf(locality: string): Body {
  const [region = '', zone = '', subZone = ''] = locality.split('/');
  const out: Body = {};
  if (region) out.region = region;
  if (zone) out.zone = zone;
  if (subZone) out.subZone = subZone;
  return out;
}

/**
 * Istio's locality failover priority: 0 when region, zone and subzone all
 * equal the proxy's, 1 for region and zone, 2 for region, 3 otherwise.
 */
export function localityPriority(proxyLocality: string, endpointLocality: string): number {
  const a = proxyLocality.split('/');
  const b = endpointLocality.split('/');
  let shared = 0;
  while (shared < 3 && (a[shared] ?? '') === (b[shared] ?? '') && (a[shared] ?? '') !== '') shared += 1;
  return 3 - shared;
}

/**
 * One LbEndpoint. `mtlsMetadata`: label it as accepting mesh mTLS (endpoint
 * metadata `envoy.transport_socket_match: {tlsMode: istio}`), for clusters
 * with auto-mTLS transport socket matches.
 */
function lbEndpoint(endpoint: Endpoint, mtlsMetadata: boolean): Body {
  const out: Body = {
    endpoint: { address: socketAddress(endpoint.address, endpoint.port) },
    healthStatus: endpoint.healthy ? 'HEALTHY' : 'UNHEALTHY',
    loadBalancingWeight: { value: Math.max(1, endpoint.weight || 1) },
  };
  const filterMetadata: Body = {};
  if (mtlsMetadata) Object.assign(filterMetadata, tlsModeMetadata().filterMetadata as Body);
  const workload = istioWorkloadMetadata(endpoint);
  if (workload) filterMetadata[ISTIO_METADATA_KEY] = { workload };
  if (Object.keys(filterMetadata).length > 0) out.metadata = { filterMetadata };
  return out;
}

/** The endpoint metadata namespace Istio uses for workload identity in telemetry. */
export const ISTIO_METADATA_KEY = 'istio';

/**
 * Istio's endpoint workload metadata for telemetry (`filterMetadata.istio.workload`):
 * `NAME;NAMESPACE;CANONICAL_SERVICE;CANONICAL_REVISION;CLUSTER`, where the
 * canonical service is the `service.istio.io/canonical-name` label, else
 * `app`, else the workload name, and the revision
 * `service.istio.io/canonical-revision`, else `version`, else `latest`.
 * Undefined for endpoints that are not workloads (ServiceEntry inline endpoints).
 */
export function istioWorkloadMetadata(endpoint: Endpoint): string | undefined {
  if (endpoint.workload.startsWith('ServiceEntry ')) return undefined;
  const slash = endpoint.workload.indexOf('/');
  if (slash < 0) return undefined;
  const namespace = endpoint.workload.slice(0, slash);
  const name = endpoint.workload.slice(slash + 1);
  const labels = endpoint.labels;
  const service = labels['service.istio.io/canonical-name'] ?? labels.app ?? name;
  const revision = labels['service.istio.io/canonical-revision'] ?? labels.version ?? 'latest';
  return [name, namespace, service, revision, 'Kubernetes'].join(';');
}

/**
 * Endpoints of the cluster's service port, narrowed to its subset's labels,
 * deduplicated by address:port. EDS carries IP addresses only (Envoy and gRPC
 * reject anything else), so endpoints with a DNS name or socket path are
 * left out with a warning.
 */
export function clusterEndpoints(ctx: TranslateContext, cluster: OutboundCluster): Endpoint[] {
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const endpoint of ctx.push.model.endpoints(cluster.service.hostname, cluster.port.number)) {
    if (!labelsMatch(cluster.subset?.labels, endpoint.labels)) continue;
    if (isIP(endpoint.address) === 0) {
      ctx.warn(
        `${cluster.name}: endpoint ${endpoint.workload} address "${endpoint.address}" is not an IP address; left out of EDS`,
      );
      continue;
    }
    const key = `${endpoint.address}:${endpoint.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(endpoint);
  }
  return out;
}

/** Istio locality pattern (`region/zone/subzone`, `*` matches the rest) against a locality. */
export function localityMatches(pattern: string, locality: string): boolean {
  const want = pattern.split('/');
  const have = locality.split('/');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '*') return true;
    if ((want[i] ?? '') !== (have[i] ?? '')) return false;
  }
  return true;
}

interface Group {
  locality: string;
  priority: number;
  endpoints: Endpoint[];
  /** Locality weight; defaults to the sum of endpoint weights. */
  weight?: number;
}

function endpointWeight(endpoints: readonly Endpoint[]): number {
  return endpoints.reduce((sum, e) => sum + Math.max(1, e.weight || 1), 0);
}

/**
 * Failover priority (Istio needs outlier detection to fail over): by
 * proximity within the proxy's region (0-2), then regions a `failover` rule
 * names for the proxy's region, then the rest.
 */
function failoverPriority(
  proxyLocality: string,
  endpointLocality: string,
  setting: LocalityLoadBalancerSetting | undefined,
): number {
  const proximity = localityPriority(proxyLocality, endpointLocality);
  if (proximity < 3) return proximity;
  const proxyRegion = proxyLocality.split('/')[0] ?? '';
  const endpointRegion = endpointLocality.split('/')[0] ?? '';
  const named = (setting?.failover ?? []).some(
    (rule) => rule.from === proxyRegion && rule.to === endpointRegion,
  );
  return named || !setting?.failover?.length ? 3 : 4;
}

/**
 * `distribute`: the first rule whose `from` matches the proxy's locality
 * gives each `to` pattern a share; localities matching a pattern split its
 * share evenly; localities no pattern matches get no traffic (dropped).
 */
function distribute(
  groups: Group[],
  proxyLocality: string,
  setting: LocalityLoadBalancerSetting | undefined,
): Group[] {
  const rule = setting?.distribute?.find(
    (d) => d.from !== undefined && localityMatches(d.from, proxyLocality),
  );
  if (!rule?.to) return groups;
  const patterns = Object.entries(rule.to);
  const patternOf = (g: Group) => patterns.find(([pattern]) => localityMatches(pattern, g.locality));
  const counts = new Map<string, number>();
  for (const group of groups) {
    const match = patternOf(group);
    if (match) counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
  }
  return groups.flatMap((group) => {
    const match = patternOf(group);
    if (!match || match[1] <= 0) return [];
    return [{ ...group, weight: Math.max(1, Math.round(match[1] / (counts.get(match[0]) ?? 1))) }];
  });
}

/** The ClusterLoadAssignment of one EDS cluster. */
export function buildClusterLoadAssignment(ctx: TranslateContext, cluster: OutboundCluster): Body {
  const policy = effectivePolicy(cluster.rule, cluster.subset, cluster.port.number);
  const setting = policy.loadBalancer?.localityLbSetting;
  const proxyLocality = ctx.proxy.locality ?? '';
  const enabled = setting?.enabled !== false && proxyLocality !== '';
  const failover = enabled && Boolean(policy.outlierDetection) && !setting?.distribute?.length;
  const byKey = new Map<string, Group>();
  for (const endpoint of clusterEndpoints(ctx, cluster)) {
    const priority = failover ? failoverPriority(proxyLocality, endpoint.locality, setting) : 0;
    const key = `${priority}|${endpoint.locality}`;
    let group = byKey.get(key);
    if (!group) {
      group = { locality: endpoint.locality, priority, endpoints: [] };
      byKey.set(key, group);
    }
    group.endpoints.push(endpoint);
  }
  const groups = enabled ? distribute([...byKey.values()], proxyLocality, setting) : [...byKey.values()];
  // Renumber priorities so they are contiguous from 0 (gRPC requires it; Envoy
  // treats gaps the same way).
  const priorities = [...new Set(groups.map((g) => g.priority))].sort((a, b) => a - b);
  const sorted = groups.sort((a, b) => a.priority - b.priority || a.locality.localeCompare(b.locality));
  return {
    clusterName: cluster.name,
    endpoints: sorted.map((group) => {
      const out: Body = {
        locality: localityOf(group.locality),
        lbEndpoints: group.endpoints.map((e) => lbEndpoint(e, !ctx.proxyless && endpointAcceptsMtls(e))),
        loadBalancingWeight: { value: group.weight ?? endpointWeight(group.endpoints) },
      };
      const priority = priorities.indexOf(group.priority);
      if (priority > 0) out.priority = priority;
      return out;
    }),
  };
}
