/**
 * EDS: one ClusterLoadAssignment per EDS cluster, endpoints grouped by
 * locality with health and weights, subsets selected by labels, and
 * locality-failover priorities when the DestinationRule asks for them.
 *
 * Every LocalityLbEndpoints carries a `locality` object and a weight, and
 * priorities are contiguous from 0: gRPC's proxyless client rejects or drops
 * anything else (grpc-js-xds endpoint-resource-type.ts).
 */
import type { Endpoint } from '@weft/config';
import { labelsMatch } from '../../model/hosts.ts';
import type { OutboundCluster } from '../clusters/outbound-clusters.ts';
import { effectivePolicy } from '../clusters/traffic-policy.ts';
import type { TranslateContext } from '../context.ts';
import { type Body, socketAddress } from '../envoy/values.ts';

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

function lbEndpoint(endpoint: Endpoint): Body {
  return {
    endpoint: { address: socketAddress(endpoint.address, endpoint.port) },
    healthStatus: endpoint.healthy ? 'HEALTHY' : 'UNHEALTHY',
    loadBalancingWeight: { value: Math.max(1, endpoint.weight || 1) },
  };
}

/** Endpoints of the cluster's service port, narrowed to its subset's labels, deduplicated by address:port. */
export function clusterEndpoints(ctx: TranslateContext, cluster: OutboundCluster): Endpoint[] {
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const endpoint of ctx.push.model.endpoints(cluster.service.hostname, cluster.port.number)) {
    if (!labelsMatch(cluster.subset?.labels, endpoint.labels)) continue;
    const key = `${endpoint.address}:${endpoint.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(endpoint);
  }
  return out;
}

function usesFailover(ctx: TranslateContext, cluster: OutboundCluster): boolean {
  const policy = effectivePolicy(cluster.rule, cluster.subset, cluster.port.number);
  const setting = policy.loadBalancer?.localityLbSetting;
  return Boolean(policy.outlierDetection) && setting?.enabled !== false && Boolean(ctx.proxy.locality);
}

/** The ClusterLoadAssignment of one EDS cluster. */
export function buildClusterLoadAssignment(ctx: TranslateContext, cluster: OutboundCluster): Body {
  const failover = usesFailover(ctx, cluster);
  const groups = new Map<string, { locality: string; priority: number; endpoints: Endpoint[] }>();
  for (const endpoint of clusterEndpoints(ctx, cluster)) {
    const priority = failover ? localityPriority(ctx.proxy.locality ?? '', endpoint.locality) : 0;
    const key = `${priority}|${endpoint.locality}`;
    let group = groups.get(key);
    if (!group) {
      group = { locality: endpoint.locality, priority, endpoints: [] };
      groups.set(key, group);
    }
    group.endpoints.push(endpoint);
  }
  // Renumber priorities so they are contiguous from 0 (gRPC requires it; Envoy
  // treats gaps the same way).
  const priorities = [...new Set([...groups.values()].map((g) => g.priority))].sort((a, b) => a - b);
  const sorted = [...groups.values()].sort(
    (a, b) => a.priority - b.priority || a.locality.localeCompare(b.locality),
  );
  return {
    clusterName: cluster.name,
    endpoints: sorted.map((group) => {
      const out: Body = {
        locality: localityOf(group.locality),
        lbEndpoints: group.endpoints.map(lbEndpoint),
        loadBalancingWeight: {
          value: group.endpoints.reduce((sum, e) => sum + Math.max(1, e.weight || 1), 0),
        },
      };
      const priority = priorities.indexOf(group.priority);
      if (priority > 0) out.priority = priority;
      return out;
    }),
  };
}
