/**
 * The translator's entry point: (proxy, push) -> Envoy resources, chosen by
 * the proxy's kind (sidecar, gateway router, proxyless gRPC client).
 */
import {
  CLUSTER_TYPE_URL,
  composeResourceList,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
  type TypeUrl,
} from '@weft/xds';
import { labelsMatch } from '../model/hosts.ts';
import type { Proxy as MeshProxy } from '../model/proxy.ts';
import type { PushContext } from '../model/push-context.ts';
import {
  inboundCluster,
  inboundPassthroughCluster,
  inboundPorts,
  localAppAddress,
} from './clusters/inbound-clusters.ts';
import { blackHoleCluster, buildOutboundClusters, passthroughCluster } from './clusters/outbound-clusters.ts';
import { createTranslateContext, type TranslateContext } from './context.ts';
import { buildClusterLoadAssignment } from './endpoints/endpoints.ts';
import type { Body } from './envoy/values.ts';
import { buildGatewayResources } from './gateway/gateway-listeners.ts';
import { localInboundListeners, virtualInboundListener } from './listeners/inbound-listener.ts';
import { buildOutboundListeners } from './listeners/outbound-listeners.ts';
import { VIRTUAL_INBOUND, VIRTUAL_OUTBOUND } from './naming.ts';
import { buildProxylessListenersAndRoutes } from './proxyless/grpc-resources.ts';
import { buildOutboundRouteConfigurations } from './routes/virtual-hosts.ts';

/** Everything one proxy gets, by type URL, plus what translation had to skip or adjust. */
export interface GeneratedResources {
  readonly resources: Partial<Record<TypeUrl, readonly Resource[]>>;
  readonly warnings: readonly string[];
}

function toResources(typeUrl: TypeUrl, bodies: readonly Body[]): Resource[] {
  return bodies.map((body) => {
    const name = (body.name ?? body.clusterName) as string;
    return Object.freeze({ typeUrl, name, body });
  });
}

/**
 * Local mode has no capture: the capture listeners (virtualOutbound 15001,
 * virtualInbound 15006 on 0.0.0.0) are kept for hand-off and inspection but
 * not bound, so several proxies share one machine.
 */
function withoutCaptureBinding(listener: Body): Body {
  if (listener.name !== VIRTUAL_OUTBOUND && listener.name !== VIRTUAL_INBOUND) return listener;
  return { ...listener, bindToPort: { value: false } };
}

function clustersAndEndpoints(ctx: TranslateContext): { clusters: Body[]; endpoints: Body[] } {
  const outbound = buildOutboundClusters(ctx);
  const clusters = outbound.map((c) => c.body);
  const endpoints = outbound.filter((c) => c.eds).map((c) => buildClusterLoadAssignment(ctx, c));
  if (!ctx.proxyless) clusters.push(blackHoleCluster(), passthroughCluster());
  return { clusters, endpoints };
}

/** A sidecar's outbound side: shared by every sidecar with the same outbound key under one push. */
interface SidecarOutbound {
  readonly clusters: readonly Resource[];
  readonly endpoints: readonly Resource[];
  readonly listeners: readonly Resource[];
  readonly routes: readonly Resource[];
  readonly warnings: readonly string[];
}

const outboundByPush = new WeakMap<PushContext, Map<string, SidecarOutbound>>();
const sourceSelectorsByPush = new WeakMap<PushContext, readonly Readonly<Record<string, string>>[]>();

/** Every `sourceLabels` selector of the push's VirtualService matches (HTTP, TLS, TCP). */
function sourceLabelSelectors(push: PushContext): readonly Readonly<Record<string, string>>[] {
  let selectors = sourceSelectorsByPush.get(push);
  if (selectors === undefined) {
    const found: Record<string, string>[] = [];
    for (const { service } of push.virtualServices) {
      for (const route of [
        ...(service.spec.http ?? []),
        ...(service.spec.tls ?? []),
        ...(service.spec.tcp ?? []),
      ]) {
        for (const match of route.match ?? []) if (match.sourceLabels) found.push(match.sourceLabels);
      }
    }
    selectors = found;
    sourceSelectorsByPush.set(push, selectors);
  }
  return selectors;
}

/**
 * Everything a sidecar's outbound side (outbound clusters and endpoints,
 * outbound listeners, route configurations) reads from the proxy: its
 * namespace, the Sidecar scoping it, its locality (EDS priorities), whether
 * it runs in local mode, and which VirtualService `sourceLabels` its labels
 * match. Istio likewise computes outbound config per Sidecar scope and only
 * inbound config per proxy.
 */
function outboundKey(ctx: TranslateContext): string {
  const { proxy, push, sidecar } = ctx;
  const sources = sourceLabelSelectors(push).map((selector) => (labelsMatch(selector, proxy.labels) ? 1 : 0));
  return JSON.stringify([
    proxy.namespace,
    sidecar ? `${sidecar.metadata.namespace}/${sidecar.metadata.name}` : '',
    proxy.locality ?? '',
    localAppAddress(proxy) !== undefined,
    sources.join(''),
  ]);
}

/** The sidecar's outbound resources, built once per outbound key and push; the same Resource objects each time. */
function sidecarOutbound(ctx: TranslateContext): SidecarOutbound {
  let cache = outboundByPush.get(ctx.push);
  if (cache === undefined) {
    cache = new Map();
    outboundByPush.set(ctx.push, cache);
  }
  const key = outboundKey(ctx);
  let outbound = cache.get(key);
  if (outbound === undefined) {
    const before = ctx.warnings.length;
    const { clusters, endpoints } = clustersAndEndpoints(ctx);
    let listeners = buildOutboundListeners(ctx);
    if (localAppAddress(ctx.proxy) !== undefined) listeners = listeners.map(withoutCaptureBinding);
    const routes = buildOutboundRouteConfigurations(ctx);
    outbound = {
      clusters: toResources(CLUSTER_TYPE_URL, clusters),
      endpoints: toResources(ENDPOINT_TYPE_URL, endpoints),
      listeners: toResources(LISTENER_TYPE_URL, listeners),
      routes: toResources(ROUTE_TYPE_URL, routes),
      warnings: ctx.warnings.slice(before),
    };
    cache.set(key, outbound);
  } else {
    for (const warning of outbound.warnings) ctx.warn(warning);
  }
  return outbound;
}

/**
 * A sidecar's resources: the shared outbound side plus its own inbound
 * listeners and clusters. CDS and LDS are composed lists (shared part, own
 * part), so @weft/xds indexes, hashes and encodes the shared part once.
 */
function sidecarResources(ctx: TranslateContext): GeneratedResources {
  const outbound = sidecarOutbound(ctx);
  let inboundListeners = [virtualInboundListener(ctx), ...localInboundListeners(ctx)];
  if (localAppAddress(ctx.proxy) !== undefined)
    inboundListeners = inboundListeners.map(withoutCaptureBinding);
  const inboundClusters = [
    ...inboundPorts(ctx).map((port) => inboundCluster(ctx.proxy, port)),
    inboundPassthroughCluster(ctx.proxy),
  ];
  return {
    resources: {
      [CLUSTER_TYPE_URL]: composeResourceList([
        outbound.clusters,
        toResources(CLUSTER_TYPE_URL, inboundClusters),
      ]),
      [ENDPOINT_TYPE_URL]: outbound.endpoints,
      [LISTENER_TYPE_URL]: composeResourceList([
        outbound.listeners,
        toResources(LISTENER_TYPE_URL, inboundListeners),
      ]),
      [ROUTE_TYPE_URL]: outbound.routes,
    },
    warnings: ctx.warnings,
  };
}

/**
 * All resources for `proxy` under `push`. A pure function: equal inputs
 * give structurally equal outputs in the same order (each list sorted or
 * in Istio's order), so snapshots hash stably. A sidecar's outbound side is
 * built once per push for all sidecars sharing its outbound key (the same
 * Resource objects, so their encoded bytes are shared too). Never throws on config
 * content; what cannot be translated is skipped and named in `warnings`.
 *
 * - sidecar: LDS virtualOutbound, per-port outbound listeners, virtualInbound;
 *   RDS one per HTTP port; CDS outbound/inbound/special clusters; EDS.
 * - router: LDS/RDS from Gateway servers, CDS/EDS as a sidecar's outbound side.
 * - proxyless (GENERATOR grpc): API listeners `HOST:PORT`, RDS, CDS, EDS.
 */
export function generateResources(proxy: MeshProxy, push: PushContext): GeneratedResources {
  const ctx = createTranslateContext(proxy, push);
  if (!ctx.proxyless && proxy.type === 'sidecar') return sidecarResources(ctx);
  const { clusters, endpoints } = clustersAndEndpoints(ctx);
  let listeners: Body[];
  let routes: Body[];
  if (ctx.proxyless) {
    ({ listeners, routes } = buildProxylessListenersAndRoutes(ctx));
  } else {
    ({ listeners, routes } = buildGatewayResources(ctx));
  }
  return {
    resources: {
      [CLUSTER_TYPE_URL]: toResources(CLUSTER_TYPE_URL, clusters),
      [ENDPOINT_TYPE_URL]: toResources(ENDPOINT_TYPE_URL, endpoints),
      [LISTENER_TYPE_URL]: toResources(LISTENER_TYPE_URL, listeners),
      [ROUTE_TYPE_URL]: toResources(ROUTE_TYPE_URL, routes),
    },
    warnings: ctx.warnings,
  };
}

/**
 * A key such that proxies with equal keys get identical resources from the
 * same push: everything `generateResources` reads from the proxy (kind,
 * generator, namespace, labels, locality) plus, for sidecars, the inbound
 * ports its IPs serve instead of the IPs themselves, so replicas of one
 * workload share a key when the model gives them the same ports.
 */
export function proxyViewKey(proxy: MeshProxy, push: PushContext): string {
  const labels = Object.entries(proxy.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const key: unknown[] = [proxy.type, proxy.generator ?? '', proxy.namespace, labels, proxy.locality ?? ''];
  if (proxy.type === 'sidecar' && proxy.generator !== 'grpc') {
    const ctx = createTranslateContext(proxy, push);
    key.push(inboundPorts(ctx).map((p) => [p.port, p.address, p.workloadAddress, p.protocol]));
  }
  return JSON.stringify(key);
}
