/**
 * Keeps RouteConfigurations that RDS dropped while a serving listener still
 * names them. The proxy unsubscribes a route name as soon as the accepted
 * LDS set stops naming it, but the previous listener version keeps serving
 * while its replacement warms, and drained chains finish their requests
 * after that; Envoy's per-listener RDS subscriptions keep their last route
 * table for as long. A retained table is released `graceMs` after no
 * serving listener names it.
 */
import type { RouteConfig } from '../config/route-config.ts';

export class RouteRetention {
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly retained = new Map<string, { config: RouteConfig; releaseAt: number | undefined }>();
  private known = new Map<string, RouteConfig>();

  constructor(now: () => number, graceMs: number) {
    this.now = now;
    this.graceMs = graceMs;
  }

  /** After an RDS update: remembers the tables it dropped; a table that came back is current again. */
  onRoutesUpdated(current: ReadonlyMap<string, RouteConfig>): void {
    for (const [name, config] of this.known)
      if (!current.has(name)) this.retained.set(name, { config, releaseAt: undefined });
    for (const name of current.keys()) this.retained.delete(name);
    this.known = new Map(current);
  }

  /** After the serving listener set changed: starts the grace period of retained tables none names. */
  onServing(referenced: ReadonlySet<string>): void {
    const now = this.now();
    for (const [name, entry] of this.retained) {
      if (referenced.has(name)) entry.releaseAt = undefined;
      else if (entry.releaseAt === undefined) entry.releaseAt = now + this.graceMs;
      else if (now >= entry.releaseAt) this.retained.delete(name);
    }
  }

  /** A dropped table still within its lifetime. */
  get(name: string): RouteConfig | undefined {
    const entry = this.retained.get(name);
    if (!entry) return undefined;
    if (entry.releaseAt !== undefined && this.now() >= entry.releaseAt) {
      this.retained.delete(name);
      return undefined;
    }
    return entry.config;
  }

  /** Names retained now (for tests and config dumps). */
  names(): string[] {
    return [...this.retained.keys()];
  }
}
