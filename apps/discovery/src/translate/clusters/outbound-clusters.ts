/**
 * Outbound clusters: `outbound|PORT||HOST` per service port plus
 * `outbound|PORT|SUBSET|HOST` per DestinationRule subset, with the rule's
 * traffic policy applied; and the special clusters BlackHoleCluster and
 * PassthroughCluster.
 */
import type { DestinationRule, Service, ServicePort, Subset } from '@weft/config';
import type { TranslateContext } from '../context.ts';
import { adsConfigSource, type Body, duration, socketAddress } from '../envoy/values.ts';
import { BLACKHOLE_CLUSTER, clusterName, PASSTHROUGH_CLUSTER } from '../naming.ts';
import { applyMeshMtls } from '../security/auto-mtls.ts';
import {
  applyConnectionPool,
  applyLoadBalancer,
  applyOutlierDetection,
  applyTls,
  DEFAULT_CONNECT_TIMEOUT_MS,
  effectivePolicy,
} from './traffic-policy.ts';

/** One cluster this proxy gets, with what EDS needs to fill it. */
export interface OutboundCluster {
  readonly name: string;
  readonly service: Service;
  readonly port: ServicePort;
  readonly subset: Subset | undefined;
  /** True when the cluster is type EDS and needs a ClusterLoadAssignment. */
  readonly eds: boolean;
  /** The DestinationRule in force, if any. */
  readonly rule: DestinationRule | undefined;
  readonly body: Body;
}

function discovery(cluster: Body, service: Service, port: ServicePort, ctx: TranslateContext): boolean {
  const name = String(cluster.name);
  switch (service.resolution) {
    case 'DNS':
    case 'DNS_ROUND_ROBIN': {
      cluster.type = ctx.proxyless || service.resolution === 'DNS_ROUND_ROBIN' ? 'LOGICAL_DNS' : 'STRICT_DNS';
      cluster.dnsLookupFamily = 'V4_ONLY';
      const endpoints = ctx.push.model.endpoints(service.hostname, port.number);
      const targets =
        endpoints.length > 0 && !ctx.proxyless && cluster.type === 'STRICT_DNS'
          ? endpoints.map((e) => ({ endpoint: { address: socketAddress(e.address, e.port) } }))
          : [
              {
                endpoint: {
                  address: socketAddress(
                    endpoints[0]?.address ?? service.hostname,
                    endpoints[0]?.port ?? port.targetPort ?? port.number,
                  ),
                },
              },
            ];
      cluster.loadAssignment = {
        clusterName: name,
        endpoints: [{ locality: {}, lbEndpoints: targets, loadBalancingWeight: { value: 1 } }],
      };
      return false;
    }
    case 'NONE':
      cluster.type = 'ORIGINAL_DST';
      cluster.lbPolicy = 'CLUSTER_PROVIDED';
      return false;
    default:
      cluster.type = 'EDS';
      cluster.edsClusterConfig = { edsConfig: adsConfigSource(), serviceName: name };
      return true;
  }
}

function buildCluster(
  ctx: TranslateContext,
  service: Service,
  port: ServicePort,
  rule: DestinationRule | undefined,
  subset: Subset | undefined,
): OutboundCluster | undefined {
  const name = clusterName('outbound', port.number, subset?.name ?? '', service.hostname);
  if (ctx.proxyless && service.resolution === 'NONE') {
    ctx.warn(`${name}: resolution NONE (passthrough) is not supported for proxyless gRPC; cluster skipped`);
    return undefined;
  }
  const body: Body = { name };
  const warn = ctx.warn.bind(ctx);
  // Policy warnings name the DestinationRule (and subset) they come from, so
  // one problem is reported once, not once per port and cluster.
  const where = rule
    ? `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name}${subset?.trafficPolicy ? ` subset ${subset.name}` : ''}`
    : name;
  let eds = discovery(body, service, port, ctx);
  const policy = effectivePolicy(rule, subset, port.number);
  if (body.type !== 'ORIGINAL_DST') applyLoadBalancer(body, policy.loadBalancer, ctx.proxyless, warn, where);
  if (body.type === 'ORIGINAL_DST') {
    eds = false;
    body.lbPolicy = 'CLUSTER_PROVIDED';
  }
  applyConnectionPool(body, policy.connectionPool, port.protocol, ctx.proxyless, warn, where);
  applyOutlierDetection(body, policy.outlierDetection, warn, where);
  if (policy.loadBalancer?.localityLbSetting?.distribute?.length && !ctx.proxyless) {
    // Envoy honours EDS locality weights only with locality-weighted LB.
    body.commonLbConfig = {
      ...((body.commonLbConfig as Body | undefined) ?? {}),
      localityWeightedLbConfig: {},
    };
  }
  applyTls(body, policy.tls, service.hostname, ctx.proxyless, warn, where);
  applyMeshMtls(ctx, body, {
    service,
    port: port.number,
    subset: subset?.name ?? '',
    tls: policy.tls,
    where,
  });
  if (!ctx.proxyless) {
    body.metadata = {
      filterMetadata: {
        istio: {
          services: [{ host: service.hostname, name: service.origin.name, namespace: service.namespace }],
          ...(subset ? { subset: subset.name } : {}),
        },
      },
    };
  }
  return { name, service, port, subset, eds, rule, body };
}

/**
 * Every outbound cluster the proxy may route to: one per visible service
 * port, and one per subset of the DestinationRule that applies to it.
 * Sorted by name.
 */
export function buildOutboundClusters(ctx: TranslateContext): OutboundCluster[] {
  const clusters: OutboundCluster[] = [];
  for (const service of ctx.services) {
    const rule = ctx.push.destinationRule(service.hostname, ctx.proxy.namespace, service.namespace);
    for (const port of service.ports) {
      const base = buildCluster(ctx, service, port, rule, undefined);
      if (base) clusters.push(base);
      for (const subset of rule?.spec.subsets ?? []) {
        const cluster = buildCluster(ctx, service, port, rule, subset);
        if (cluster) clusters.push(cluster);
      }
    }
  }
  return clusters.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * BlackHoleCluster: a STATIC cluster with no endpoints; connections to it
 * fail. The empty load assignment says so explicitly (same meaning to Envoy).
 */
export function blackHoleCluster(): Body {
  return {
    name: BLACKHOLE_CLUSTER,
    type: 'STATIC',
    connectTimeout: duration(DEFAULT_CONNECT_TIMEOUT_MS),
    loadAssignment: { clusterName: BLACKHOLE_CLUSTER },
  };
}

/** PassthroughCluster: forwards to the connection's original destination. */
export function passthroughCluster(name = PASSTHROUGH_CLUSTER): Body {
  return {
    name,
    type: 'ORIGINAL_DST',
    lbPolicy: 'CLUSTER_PROVIDED',
    connectTimeout: duration(DEFAULT_CONNECT_TIMEOUT_MS),
    circuitBreakers: {
      thresholds: [
        {
          maxConnections: { value: 4_294_967_295 },
          maxPendingRequests: { value: 4_294_967_295 },
          maxRequests: { value: 4_294_967_295 },
          maxRetries: { value: 4_294_967_295 },
        },
      ],
    },
  };
}
