/**
 * Debounce for bursts of config events: flush `delayMs` after the last
 * trigger, but never later than `maxDelayMs` after the first one, so a
 * steady stream of events still flushes.
 */

/** Timer functions, injectable for tests (defaults: global setTimeout/clearTimeout). */
export interface DebounceTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DebounceOptions {
  /** Quiet period after the last trigger, in milliseconds; default 100. */
  delayMs?: number;
  /** Longest wait after the first trigger of a burst, in milliseconds; default 1000. */
  maxDelayMs?: number;
  /** Clock in milliseconds; default Date.now. */
  clock?: () => number;
  timers?: DebounceTimers;
}

export interface Debounce {
  /** Notes an event; the flush follows per the delays. Safe to call any number of times. */
  trigger(): void;
  /** Flushes now if a trigger is pending; otherwise does nothing. */
  flushNow(): void;
  /** Drops a pending flush. */
  cancel(): void;
}

/** Creates a debounce around `flush` (called synchronously from a timer; it should not throw). */
export function createDebounce(options: DebounceOptions, flush: () => void): Debounce {
  const delayMs = options.delayMs ?? 100;
  const maxDelayMs = Math.max(options.maxDelayMs ?? 1000, delayMs);
  const clock = options.clock ?? Date.now;
  const timers: DebounceTimers = options.timers ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  let firstAt: number | undefined;
  let timer: unknown;
  const clear = (): void => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
  const fire = (): void => {
    clear();
    firstAt = undefined;
    flush();
  };
  return {
    trigger() {
      const now = clock();
      firstAt ??= now;
      clear();
      const wait = Math.max(0, Math.min(delayMs, firstAt + maxDelayMs - now));
      timer = timers.setTimeout(fire, wait);
    },
    flushNow() {
      if (firstAt !== undefined) fire();
    },
    cancel() {
      clear();
      firstAt = undefined;
    },
  };
}
