/**
 * The hosts of one cluster, grouped by priority and locality, with the
 * balancers built over them.
 *
 * Selection follows Envoy's load-balancing overview: a priority receives
 * load in proportion to its healthy share times the overprovisioning
 * factor 1.4, spilling the rest to the next priority; within a priority,
 * locality-weighted LB first picks a locality by weight x availability;
 * when a priority's healthy share falls below the panic threshold, all its
 * hosts are used. Outlier-ejected hosts count as unhealthy until their
 * ejection ends (checked lazily on pick with the injected clock).
 */
import type { ClusterConfig } from '../config/cluster-config.ts';
import { type EndpointConfig, type EndpointsConfig, isHealthy } from '../config/endpoint-config.ts';
import { createLoadBalancer, type LoadBalancer } from './load-balancer.ts';

const OVERPROVISIONING = 1.4;

/** One upstream host with its live counters. Kept across EDS updates by `key`. */
export class Host {
  readonly key: string;
  endpoint: EndpointConfig;
  weight: number;
  /** Requests in flight (least request, circuit breaking). */
  active = 0;
  consecutive5xx = 0;
  consecutiveGatewayFailures = 0;
  ejections = 0;
  /** Clock time until which the host is ejected (0 = not ejected). */
  ejectedUntil = 0;
  requestsTotal = 0;
  errorsTotal = 0;
  /** Clock time of the last pick (ORIGINAL_DST hosts are removed after cleanupInterval unused). */
  lastUsedAt = 0;

  constructor(endpoint: EndpointConfig) {
    this.key = endpoint.key;
    this.endpoint = endpoint;
    this.weight = endpoint.weight;
  }

  get address(): string {
    return this.endpoint.address;
  }

  get port(): number {
    return this.endpoint.port;
  }

  /** Healthy per EDS and not ejected at `now`. */
  available(now: number): boolean {
    return isHealthy(this.endpoint) && this.ejectedUntil <= now;
  }
}

interface PriorityPlan {
  /** Share of load [0, 1] this priority receives. */
  readonly load: number;
  readonly panic: boolean;
  readonly balancer: LoadBalancer<Host> | undefined;
  /** Locality-weighted: per locality a balancer and its cumulative weight. */
  readonly localities: readonly { readonly cumulative: number; readonly balancer: LoadBalancer<Host> }[];
}

export interface HostSetOptions {
  readonly now: () => number;
  readonly random: () => number;
}

/** The hosts and balancers of one cluster for one endpoint assignment. Rebuilt on change. */
export class HostSet {
  readonly hosts: readonly Host[];
  private readonly config: ClusterConfig;
  private readonly endpoints: EndpointsConfig | undefined;
  private readonly options: HostSetOptions;
  private readonly byKey: ReadonlyMap<string, Host>;
  private plans: readonly PriorityPlan[] = [];
  /** Earliest clock time an ejection ends (then the plan is rebuilt). */
  private nextUnejectAt = Number.POSITIVE_INFINITY;

  /** Builds the set, reusing `previous` hosts (and their counters) by key. */
  constructor(
    config: ClusterConfig,
    endpoints: EndpointsConfig | undefined,
    previous: ReadonlyMap<string, Host>,
    options: HostSetOptions,
  ) {
    this.config = config;
    this.endpoints = endpoints;
    this.options = options;
    const byKey = new Map<string, Host>();
    for (const priority of endpoints?.priorities ?? []) {
      for (const locality of priority) {
        for (const endpoint of locality.endpoints) {
          const host = previous.get(endpoint.key) ?? new Host(endpoint);
          host.endpoint = endpoint;
          host.weight = endpoint.weight;
          byKey.set(endpoint.key, host);
        }
      }
    }
    this.byKey = byKey;
    this.hosts = [...byKey.values()];
    this.rebuild();
  }

  get(key: string): Host | undefined {
    return this.byKey.get(key);
  }

  /** Recomputes the priority plans (after ejections change). */
  rebuild(): void {
    const now = this.options.now();
    const lbOptions = {
      choiceCount: this.config.leastRequestChoiceCount,
      ringSize: this.config.ringSize,
      maglevTableSize: this.config.maglevTableSize,
      random: this.options.random,
    };
    const plans: PriorityPlan[] = [];
    let remaining = 1;
    let nextUneject = Number.POSITIVE_INFINITY;
    for (const priority of this.endpoints?.priorities ?? []) {
      const all = priority.flatMap((l) => l.endpoints.map((e) => this.byKey.get(e.key)!));
      for (const h of all) if (h.ejectedUntil > now) nextUneject = Math.min(nextUneject, h.ejectedUntil);
      const healthy = all.filter((h) => h.available(now));
      const share = all.length === 0 ? 0 : healthy.length / all.length;
      const load = Math.min(remaining, Math.min(1, share * OVERPROVISIONING));
      remaining -= load;
      const panic = share * 100 < this.config.healthyPanicThreshold;
      const chosen = panic ? all : healthy;
      const localities: Array<{ cumulative: number; balancer: LoadBalancer<Host> }> = [];
      if (this.config.localityWeighted) {
        let cumulative = 0;
        for (const locality of priority) {
          if (!locality.weight) continue;
          const members = locality.endpoints.map((e) => this.byKey.get(e.key)!);
          const usable = panic ? members : members.filter((h) => h.available(now));
          if (usable.length === 0) continue;
          const availability = Math.min(1, (usable.length / members.length) * OVERPROVISIONING);
          cumulative += locality.weight * availability;
          localities.push({
            cumulative,
            balancer: createLoadBalancer(this.config.lbPolicy, usable, lbOptions),
          });
        }
      }
      plans.push({
        load,
        panic,
        balancer: chosen.length > 0 ? createLoadBalancer(this.config.lbPolicy, chosen, lbOptions) : undefined,
        localities,
      });
    }
    // All priorities unhealthy: Envoy then spreads load as if in panic over priority 0.
    if (remaining === 1 && plans.length > 0) {
      const first = plans[0]!;
      plans[0] = { ...first, load: 1 };
    } else if (remaining > 0 && plans.length > 0) {
      // Normalise so the shares add up to 1.
      const total = 1 - remaining;
      for (let i = 0; i < plans.length; i++) plans[i] = { ...plans[i]!, load: plans[i]!.load / total };
    }
    this.plans = plans;
    this.nextUnejectAt = nextUneject;
  }

  /** Picks a host for one request, or undefined when the cluster has none usable. */
  pick(hash: number | undefined): Host | undefined {
    if (this.options.now() >= this.nextUnejectAt) this.rebuild();
    const plans = this.plans;
    if (plans.length === 0) return undefined;
    let plan = plans[0]!;
    if (plans.length > 1) {
      let ticket = this.options.random();
      for (const p of plans) {
        plan = p;
        if (ticket < p.load) break;
        ticket -= p.load;
      }
    }
    if (plan.localities.length > 0) {
      const total = plan.localities[plan.localities.length - 1]!.cumulative;
      const ticket = this.options.random() * total;
      for (const l of plan.localities) if (ticket < l.cumulative) return l.balancer.pick(hash);
    }
    return plan.balancer?.pick(hash);
  }

  /** Hosts currently ejected at `now`. */
  ejectedCount(now: number): number {
    let n = 0;
    for (const h of this.hosts) if (h.ejectedUntil > now) n++;
    return n;
  }
}
