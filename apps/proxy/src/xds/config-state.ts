/**
 * The proxy's accepted configuration, per xDS type: compiled runtime
 * structures plus the raw resources (for config_dump).
 *
 * `validate` compiles every resource of a response and returns the
 * problems (the ADS client NACKs with them and keeps the last good set);
 * `accept` then swaps in what `validate` compiled, so nothing is compiled
 * twice. Both are synchronous and never throw.
 */
import type { Resource } from '@weft/xds';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  resourceVersion,
} from '@weft/xds';
import { type ClusterConfig, compileCluster } from '../config/cluster-config.ts';
import { compileClusterLoadAssignment, type EndpointsConfig } from '../config/endpoint-config.ts';
import { compileListener, type ListenerConfig } from '../config/listener-config.ts';
import { type Compiled, formatProblems, type Problem } from '../config/problems.ts';
import { compileRouteConfiguration, type RouteConfig } from '../config/route-config.ts';

type CompiledByType = {
  [CLUSTER_TYPE_URL]: ClusterConfig;
  [ENDPOINT_TYPE_URL]: EndpointsConfig;
  [LISTENER_TYPE_URL]: ListenerConfig;
  [ROUTE_TYPE_URL]: RouteConfig;
};

export type ProxyTypeUrl = keyof CompiledByType;

const COMPILERS: { [T in ProxyTypeUrl]: (body: Record<string, unknown>) => Compiled<CompiledByType[T]> } = {
  [CLUSTER_TYPE_URL]: compileCluster,
  [ENDPOINT_TYPE_URL]: (body) => compileClusterLoadAssignment(body),
  [LISTENER_TYPE_URL]: compileListener,
  [ROUTE_TYPE_URL]: (body) => compileRouteConfiguration(body),
};

/** True when two resources encode to the same bytes (content hash; memoised by @weft/xds). */
function sameContent(a: Resource, b: Resource): boolean {
  if (a === b) return true;
  try {
    return resourceVersion(a) === resourceVersion(b);
  } catch {
    return false;
  }
}

/** True for the four types the proxy consumes (SDS comes later). */
export function isProxyTypeUrl(typeUrl: string): typeUrl is ProxyTypeUrl {
  return typeUrl in COMPILERS;
}

export class ConfigState {
  readonly clusters = new Map<string, ClusterConfig>();
  readonly endpoints = new Map<string, EndpointsConfig>();
  readonly listeners = new Map<string, ListenerConfig>();
  readonly routes = new Map<string, RouteConfig>();
  /** The accepted raw resources per type, by name. */
  readonly resources = new Map<ProxyTypeUrl, ReadonlyMap<string, Resource>>();
  readonly versions = new Map<ProxyTypeUrl, string>();
  private readonly pending = new Map<ProxyTypeUrl, Map<Resource, unknown>>();
  /** Extra checks on compiled resources (e.g. SDS without an identity agent); problems reject them. */
  private readonly check: ((typeUrl: ProxyTypeUrl, value: unknown) => Problem[]) | undefined;

  constructor(check?: (typeUrl: ProxyTypeUrl, value: unknown) => Problem[]) {
    this.check = check;
  }

  private store<T extends ProxyTypeUrl>(typeUrl: T): Map<string, CompiledByType[T]> {
    const stores = {
      [CLUSTER_TYPE_URL]: this.clusters,
      [ENDPOINT_TYPE_URL]: this.endpoints,
      [LISTENER_TYPE_URL]: this.listeners,
      [ROUTE_TYPE_URL]: this.routes,
    } as const;
    return stores[typeUrl] as Map<string, CompiledByType[T]>;
  }

  /** Compiles `resources`; returns one message per rejected resource (empty = acceptable). */
  validate(typeUrl: ProxyTypeUrl, resources: readonly Resource[]): string[] {
    const problems: string[] = [];
    const compiled = new Map<Resource, unknown>();
    const compile = COMPILERS[typeUrl] as (body: Record<string, unknown>) => Compiled<unknown>;
    for (const resource of resources) {
      const result = compile(resource.body);
      const extra = result.ok ? (this.check?.(typeUrl, result.value) ?? []) : [];
      if (result.ok && extra.length === 0) compiled.set(resource, result.value);
      else problems.push(formatProblems(resource.name, result.ok ? extra : result.problems));
    }
    this.pending.set(typeUrl, compiled);
    return problems;
  }

  /**
   * Makes `resources` (the full accepted set of the type) current. Resources
   * compiled by the last `validate` are taken from there; others (kept from
   * earlier responses) keep their compiled form.
   */
  accept(typeUrl: ProxyTypeUrl, resources: ReadonlyMap<string, Resource>, version: string): void {
    const pending = this.pending.get(typeUrl) ?? new Map<Resource, unknown>();
    this.pending.delete(typeUrl);
    const store = this.store(typeUrl) as Map<string, unknown>;
    const previous = new Map(store);
    const previousResources = this.resources.get(typeUrl);
    store.clear();
    for (const [name, resource] of resources) {
      // An unchanged resource keeps its compiled object, so listeners and clusters
      // that did not change are not rebuilt (no drained connections, no new pools).
      const before = previousResources?.get(name);
      let compiled = before !== undefined && sameContent(before, resource) ? previous.get(name) : undefined;
      compiled ??= pending.get(resource);
      if (compiled === undefined) {
        const result = (COMPILERS[typeUrl] as (body: Record<string, unknown>) => Compiled<unknown>)(
          resource.body,
        );
        if (!result.ok) continue;
        compiled = result.value;
      }
      store.set(name, compiled);
    }
    this.resources.set(typeUrl, resources);
    this.versions.set(typeUrl, version);
  }

  /** RouteConfiguration names the accepted listeners reference through RDS. */
  rdsNames(): string[] {
    const names = new Set<string>();
    for (const listener of this.listeners.values()) {
      for (const chain of [
        ...listener.filterChains,
        ...(listener.defaultFilterChain ? [listener.defaultFilterChain] : []),
      ]) {
        if (chain.network.kind === 'http' && chain.network.rds) names.add(chain.network.rds);
      }
    }
    return [...names];
  }

  /** ClusterLoadAssignment names the accepted EDS clusters need. */
  edsNames(): string[] {
    const names = new Set<string>();
    for (const cluster of this.clusters.values())
      if (cluster.type === 'EDS') names.add(cluster.edsServiceName);
    return [...names];
  }
}
