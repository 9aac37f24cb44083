/**
 * Subscription bookkeeping shared by SotW and delta: wildcard or named.
 *
 * Wildcard (xDS doc, "How the client specifies what resources to return"):
 * the name `*`, or - for LDS/CDS only - a stream that has never named
 * anything. Once names were given, an empty list means "nothing".
 */
import type { WireStatus } from '../wire/ads-wire.ts';

export interface Subscription {
  readonly wildcard: boolean;
  readonly names: ReadonlySet<string>;
  /** True once the client named a resource (ends legacy wildcard). */
  readonly everNamed: boolean;
}

/** The subscription after a SotW request's `resource_names`, and whether it changed. */
export function subscriptionUpdate(
  previous: Subscription | undefined,
  resourceNames: readonly string[],
  legacyWildcard: boolean,
): { subscription: Subscription; changed: boolean } {
  const names = new Set(resourceNames.filter((n) => n !== '*'));
  const everNamed = (previous?.everNamed ?? false) || names.size > 0;
  const wildcard =
    resourceNames.includes('*') || (legacyWildcard && resourceNames.length === 0 && !everNamed);
  const subscription: Subscription = { wildcard, names, everNamed };
  const changed =
    !previous ||
    previous.wildcard !== wildcard ||
    previous.names.size !== names.size ||
    [...names].some((n) => !previous.names.has(n));
  return { subscription, changed };
}

/** A request with `error_detail` set (non-zero code or a message) is a NACK. */
export function isNack(detail: WireStatus | undefined): boolean {
  return (
    detail !== undefined && detail !== null && ((detail.code ?? 0) !== 0 || (detail.message ?? '') !== '')
  );
}
