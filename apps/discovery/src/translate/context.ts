/**
 * What one generation run knows: the proxy, the push, the services this proxy
 * may reach (after Sidecar egress scoping) and the warnings collected so far.
 */
import type { Service, Sidecar } from '@weft/config';
import { hostCovers, splitNamespacedHost } from '../model/hosts.ts';
import type { Proxy as MeshProxy } from '../model/proxy.ts';
import type { PushContext } from '../model/push-context.ts';

export interface TranslateContext {
  readonly proxy: MeshProxy;
  readonly push: PushContext;
  /** The Sidecar resource scoping this proxy, if any. */
  readonly sidecar: Sidecar | undefined;
  /** Services this proxy may reach, sorted by hostname. */
  readonly services: readonly Service[];
  /** The service of `services` with this hostname, if any. */
  service(hostname: string): Service | undefined;
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** True for proxyless gRPC clients (GENERATOR grpc). */
  readonly proxyless: boolean;
  /** Records a translation warning (kept in the order found, deduplicated). */
  warn(message: string): void;
  readonly warnings: readonly string[];
}

/**
 * True when a Sidecar egress host entry (`namespace/host`, namespace `*`,
 * `.` or `~`) admits the service.
 */
function egressAdmits(entry: string, sidecarNamespace: string, service: Service): boolean {
  const { namespace, host } = splitNamespacedHost(entry, sidecarNamespace);
  if (namespace === '~') return false;
  if (namespace !== '*' && namespace !== service.namespace) return false;
  return hostCovers(host, service.hostname);
}

/**
 * Services visible to the proxy: exported to its namespace and, when a
 * Sidecar applies, admitted by one of its egress listeners' hosts. An egress
 * listener with a `port` admits only that port of the services it names
 * (the service is narrowed to the admitted ports). Bind addresses and
 * capture modes are not applied (see docs/xds-translation.md).
 */
export function scopedServices(
  push: PushContext,
  namespace: string,
  sidecar: Sidecar | undefined,
): readonly Service[] {
  const visible = push.servicesVisibleTo(namespace);
  const egress = sidecar?.spec.egress;
  if (!sidecar || !egress || egress.length === 0) return visible;
  const owner = sidecar.metadata.namespace;
  const scoped: Service[] = [];
  for (const service of visible) {
    const listeners = egress.filter((l) => l.hosts.some((entry) => egressAdmits(entry, owner, service)));
    if (listeners.length === 0) continue;
    if (listeners.some((l) => l.port === undefined)) {
      scoped.push(service);
      continue;
    }
    const ports = new Set(listeners.map((l) => l.port!.number));
    const admitted = service.ports.filter((p) => ports.has(p.number));
    if (admitted.length > 0) scoped.push({ ...service, ports: admitted });
  }
  return scoped;
}

interface Scope {
  readonly services: readonly Service[];
  readonly byHost: ReadonlyMap<string, Service>;
}

const scopesByPush = new WeakMap<PushContext, Map<string, Scope>>();

/** `scopedServices` and its host index, computed once per push, namespace and Sidecar. */
function scopeFor(push: PushContext, namespace: string, sidecar: Sidecar | undefined): Scope {
  let scopes = scopesByPush.get(push);
  if (scopes === undefined) {
    scopes = new Map();
    scopesByPush.set(push, scopes);
  }
  const key = `${namespace}\0${sidecar ? `${sidecar.metadata.namespace}/${sidecar.metadata.name}` : ''}`;
  let scope = scopes.get(key);
  if (scope === undefined) {
    const services = scopedServices(push, namespace, sidecar);
    scope = { services, byHost: new Map(services.map((s) => [s.hostname, s])) };
    scopes.set(key, scope);
  }
  return scope;
}

/** Creates the context of one `generateResources` run. */
export function createTranslateContext(proxy: MeshProxy, push: PushContext): TranslateContext {
  const sidecar = proxy.type === 'sidecar' ? push.sidecarFor(proxy.namespace, proxy.labels) : undefined;
  const warnings: string[] = [];
  const seen = new Set<string>();
  const { services, byHost } = scopeFor(push, proxy.namespace, sidecar);
  return {
    proxy,
    push,
    sidecar,
    services,
    service: (hostname: string) => byHost.get(hostname),
    outboundTrafficPolicy: sidecar?.spec.outboundTrafficPolicy?.mode ?? push.mesh.outboundTrafficPolicy,
    proxyless: proxy.generator === 'grpc',
    warn(message: string) {
      if (seen.has(message)) return;
      seen.add(message);
      warnings.push(message);
    },
    warnings,
  };
}
