/**
 * Exponential backoff with jitter for reconnects: `initialMs`, doubling per
 * failed attempt up to `maxMs`, each delay reduced by up to `jitter` (a
 * fraction, 0..1) at random so a fleet of proxies does not reconnect in step.
 */

export interface BackoffOptions {
  /** First delay in milliseconds; default 500. */
  initialMs?: number;
  /** Largest delay in milliseconds; default 30 000. */
  maxMs?: number;
  /** Fraction of the delay taken off at random; default 0.2. */
  jitter?: number;
}

export interface Backoff {
  /** The delay before the next attempt; grows with each call. */
  next(): number;
  /** Starts over from `initialMs` (after a successful connection). */
  reset(): void;
}

/** Creates a backoff; `random` returns [0, 1) (default Math.random). */
export function createBackoff(options: BackoffOptions = {}, random: () => number = Math.random): Backoff {
  const initialMs = Math.max(1, options.initialMs ?? 500);
  const maxMs = Math.max(initialMs, options.maxMs ?? 30_000);
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
  let attempt = 0;
  return {
    next() {
      const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
      attempt += 1;
      return Math.round(base * (1 - jitter * random()));
    },
    reset() {
      attempt = 0;
    },
  };
}
