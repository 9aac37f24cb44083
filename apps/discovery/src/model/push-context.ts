/**
 * The immutable snapshot translation reads: the mesh model plus the Istio
 * config indexed the way translation asks for it. Built once per config
 * change; every proxy's resources are a pure function of (proxy, push).
 */
import type {
  AuthorizationPolicy,
  ConfigObject,
  DestinationRule,
  Gateway,
  MeshConfig,
  MeshModel,
  PeerAuthentication,
  RequestAuthentication,
  Service,
  Sidecar,
  VirtualService,
} from '@weft/config';
import { buildMeshModel } from '@weft/config';
import { exportedTo, hostCovers, labelsMatch, resolveHost } from './hosts.ts';

/** The gateway name of the sidecar mesh in VirtualService `gateways`. */
export const MESH_GATEWAY = 'mesh';

/** A DestinationRule with its host expanded to a FQDN (or wildcard). */
export interface IndexedDestinationRule {
  readonly rule: DestinationRule;
  readonly host: string;
}

/** A VirtualService with hosts expanded and gateways as `namespace/name` or `mesh`. */
export interface IndexedVirtualService {
  readonly service: VirtualService;
  readonly hosts: readonly string[];
  readonly gateways: readonly string[];
}

/** What translation reads. All lists are sorted by namespace then name. */
export interface PushContext {
  readonly version: string;
  readonly mesh: MeshConfig;
  readonly model: MeshModel;
  readonly virtualServices: readonly IndexedVirtualService[];
  readonly destinationRules: readonly IndexedDestinationRule[];
  readonly gateways: readonly Gateway[];
  readonly sidecars: readonly Sidecar[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthentication[];
  /** Services whose exportTo lets `namespace` see them, sorted by hostname. */
  servicesVisibleTo(namespace: string): readonly Service[];
  /**
   * VirtualServices bound to `gateway` (`mesh` or `namespace/name`) and
   * exported to `namespace`.
   */
  virtualServicesFor(gateway: string, namespace: string): readonly IndexedVirtualService[];
  /**
   * The DestinationRule that applies to `hostname` for a proxy in
   * `namespace`, with Istio's precedence: the proxy's namespace, then the
   * service's namespace, then the root namespace, then any other namespace
   * that exports it; within one namespace an exact host beats the most
   * specific wildcard.
   */
  destinationRule(
    hostname: string,
    namespace: string,
    serviceNamespace?: string,
  ): DestinationRule | undefined;
  /**
   * The Sidecar resource scoping a proxy: one in its namespace whose
   * workloadSelector matches its labels, else its namespace's selector-less
   * one, else the root namespace's selector-less one.
   */
  sidecarFor(namespace: string, labels: Readonly<Record<string, string>>): Sidecar | undefined;
  /** Gateways whose selector matches a router's labels. */
  gatewaysFor(labels: Readonly<Record<string, string>>): readonly Gateway[];
}

function byNamespaceName<K extends ConfigObject>(a: K, b: K): number {
  return (
    a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name)
  );
}

function ofKind<K extends ConfigObject['kind']>(
  objects: readonly ConfigObject[],
  kind: K,
): ConfigObject<K>[] {
  return objects.filter((o): o is ConfigObject<K> => o.kind === kind).sort(byNamespaceName);
}

/** `gateways` entries of a VirtualService as `namespace/name` or `mesh`. */
export function normalizeGateways(gateways: readonly string[] | undefined, namespace: string): string[] {
  if (!gateways || gateways.length === 0) return [MESH_GATEWAY];
  return gateways.map((g) => (g === MESH_GATEWAY || g.includes('/') ? g : `${namespace}/${g}`));
}

function indexVirtualService(service: VirtualService, mesh: MeshConfig): IndexedVirtualService {
  const { namespace } = service.metadata;
  return {
    service,
    hosts: (service.spec.hosts ?? []).map((h) => resolveHost(h, namespace, mesh.domainSuffix)),
    gateways: normalizeGateways(service.spec.gateways, namespace),
  };
}

/** Specificity of a DestinationRule host against a service host: higher wins, -1 when it does not apply. */
function hostSpecificity(pattern: string, hostname: string): number {
  if (pattern === hostname) return Number.MAX_SAFE_INTEGER;
  return hostCovers(pattern, hostname) ? pattern.length : -1;
}

function bestRuleIn(
  rules: readonly IndexedDestinationRule[],
  namespace: string,
  hostname: string,
): DestinationRule | undefined {
  let best: IndexedDestinationRule | undefined;
  let bestScore = -1;
  for (const indexed of rules) {
    if (indexed.rule.metadata.namespace !== namespace) continue;
    const score = hostSpecificity(indexed.host, hostname);
    if (score > bestScore) {
      best = indexed;
      bestScore = score;
    }
  }
  return best?.rule;
}

/**
 * Builds the push context. Pure and cheap enough to run on every debounced
 * config change; the result is frozen and safe to share between proxies.
 */
export function createPushContext(
  objects: readonly ConfigObject[],
  mesh: MeshConfig,
  version: string,
): PushContext {
  const model = buildMeshModel(objects, mesh);
  const virtualServices = ofKind(objects, 'VirtualService').map((vs) => indexVirtualService(vs, mesh));
  const destinationRules = ofKind(objects, 'DestinationRule').map((rule) => ({
    rule,
    host: resolveHost(rule.spec.host, rule.metadata.namespace, mesh.domainSuffix),
  }));
  const gateways = ofKind(objects, 'Gateway');
  const sidecars = ofKind(objects, 'Sidecar');
  const services = [...model.services].sort((a, b) => a.hostname.localeCompare(b.hostname));
  const visibleCache = new Map<string, readonly Service[]>();

  const servicesVisibleTo = (namespace: string): readonly Service[] => {
    let visible = visibleCache.get(namespace);
    if (!visible) {
      visible = Object.freeze(services.filter((s) => exportedTo(s.exportTo, s.namespace, namespace)));
      visibleCache.set(namespace, visible);
    }
    return visible;
  };

  const ruleCache = new Map<string, DestinationRule | undefined>();
  const vsCache = new Map<string, readonly IndexedVirtualService[]>();

  const findDestinationRule = (hostname: string, namespace: string, serviceNamespace?: string) => {
    const visible = destinationRules.filter((d) =>
      exportedTo(d.rule.spec.exportTo, d.rule.metadata.namespace, namespace),
    );
    const order = [namespace, serviceNamespace ?? model.service(hostname)?.namespace, mesh.rootNamespace];
    for (const ns of order) {
      if (ns === undefined) continue;
      const rule = bestRuleIn(visible, ns, hostname);
      if (rule) return rule;
    }
    const others = [...new Set(visible.map((d) => d.rule.metadata.namespace))];
    for (const ns of others) {
      const rule = bestRuleIn(visible, ns, hostname);
      if (rule) return rule;
    }
    return undefined;
  };

  // Memoised: translation asks the same (host, namespace) for every port,
  // subset and route; the answers never change within one push.
  const destinationRule = (hostname: string, namespace: string, serviceNamespace?: string) => {
    const key = `${hostname}\n${namespace}\n${serviceNamespace ?? ''}`;
    if (!ruleCache.has(key)) ruleCache.set(key, findDestinationRule(hostname, namespace, serviceNamespace));
    return ruleCache.get(key);
  };

  const virtualServicesFor = (gateway: string, namespace: string) => {
    const key = `${gateway}\n${namespace}`;
    let found = vsCache.get(key);
    if (!found) {
      found = Object.freeze(
        virtualServices.filter(
          (vs) =>
            vs.gateways.includes(gateway) &&
            exportedTo(vs.service.spec.exportTo, vs.service.metadata.namespace, namespace),
        ),
      );
      vsCache.set(key, found);
    }
    return found;
  };

  const sidecarFor = (namespace: string, labels: Readonly<Record<string, string>>) => {
    const inNamespace = sidecars.filter((s) => s.metadata.namespace === namespace);
    const selected = inNamespace.find(
      (s) => s.spec.workloadSelector?.labels && labelsMatch(s.spec.workloadSelector.labels, labels),
    );
    return (
      selected ??
      inNamespace.find((s) => !s.spec.workloadSelector?.labels) ??
      sidecars.find((s) => s.metadata.namespace === mesh.rootNamespace && !s.spec.workloadSelector?.labels)
    );
  };

  return Object.freeze({
    version,
    mesh,
    model,
    virtualServices: Object.freeze(virtualServices),
    destinationRules: Object.freeze(destinationRules),
    gateways: Object.freeze(gateways),
    sidecars: Object.freeze(sidecars),
    peerAuthentications: Object.freeze(ofKind(objects, 'PeerAuthentication')),
    authorizationPolicies: Object.freeze(ofKind(objects, 'AuthorizationPolicy')),
    requestAuthentications: Object.freeze(ofKind(objects, 'RequestAuthentication')),
    servicesVisibleTo,
    virtualServicesFor,
    destinationRule,
    sidecarFor,
    gatewaysFor: (labels: Readonly<Record<string, string>>) =>
      gateways.filter(
        (g) =>
          g.spec.selector && Object.keys(g.spec.selector).length > 0 && labelsMatch(g.spec.selector, labels),
      ),
  });
}
