/**
 * Listener warming, as Envoy does it: a new or updated Listener becomes
 * active only once every RouteConfiguration it names over RDS has arrived,
 * so a listener update never serves 404s while its routes are in flight.
 * Until then the previous version of that listener (if any) keeps serving.
 * After `timeoutMs` (Envoy's initial_fetch_timeout, 15 s) it activates
 * anyway, answering NR for the missing routes.
 */
import type { ListenerConfig } from '../config/listener-config.ts';

/** RouteConfiguration names a listener's HTTP chains read over RDS. */
export function rdsNames(listener: ListenerConfig): string[] {
  const chains = listener.defaultFilterChain
    ? [...listener.filterChains, listener.defaultFilterChain]
    : listener.filterChains;
  const names: string[] = [];
  for (const chain of chains)
    if (chain.network.kind === 'http' && chain.network.rds) names.push(chain.network.rds);
  return names;
}

export class ListenerWarmer {
  private readonly now: () => number;
  private readonly timeoutMs: number;
  /** Listener config -> clock time it started warming. */
  private readonly since = new WeakMap<ListenerConfig, number>();
  private active = new Map<string, ListenerConfig>();

  constructor(now: () => number, timeoutMs = 15_000) {
    this.now = now;
    this.timeoutMs = timeoutMs;
  }

  /**
   * The listener set to serve now, from the wanted (accepted) set. Safe to
   * call repeatedly (on every LDS and RDS update, and on a timer).
   */
  select(
    wanted: ReadonlyMap<string, ListenerConfig>,
    hasRoute: (name: string) => boolean,
  ): Map<string, ListenerConfig> {
    const now = this.now();
    const next = new Map<string, ListenerConfig>();
    for (const [name, config] of wanted) {
      if (this.active.get(name) === config) {
        next.set(name, config);
        continue;
      }
      const started = this.since.get(config) ?? now;
      this.since.set(config, started);
      const warm = rdsNames(config).every(hasRoute) || now - started >= this.timeoutMs;
      if (warm) next.set(name, config);
      else {
        const previous = this.active.get(name);
        if (previous) next.set(name, previous);
      }
    }
    this.active = next;
    return next;
  }

  /** Names of listeners still warming after the last `select`. */
  warming(wanted: ReadonlyMap<string, ListenerConfig>): string[] {
    return [...wanted].filter(([name, config]) => this.active.get(name) !== config).map(([name]) => name);
  }
}
