import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDebounce } from './debounce.ts';

describe('createDebounce', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = (options: { delayMs?: number; maxDelayMs?: number } = {}) => {
    let flushes = 0;
    const debounce = createDebounce({ ...options, clock: () => Date.now() }, () => {
      flushes += 1;
    });
    return { debounce, flushes: () => flushes };
  };

  it('coalesces a burst into one flush, delayMs after the last event', () => {
    const { debounce, flushes } = setup();
    debounce.trigger();
    vi.advanceTimersByTime(60);
    debounce.trigger();
    vi.advanceTimersByTime(60);
    expect(flushes()).toBe(0);
    vi.advanceTimersByTime(40);
    expect(flushes()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(flushes()).toBe(1);
  });

  it('flushes a steady stream of events at least every maxDelayMs', () => {
    const { debounce, flushes } = setup({ delayMs: 100, maxDelayMs: 300 });
    for (let t = 0; t < 1000; t += 50) {
      debounce.trigger();
      vi.advanceTimersByTime(50);
    }
    expect(flushes()).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ['flushNow flushes a pending trigger at once', 'flushNow', 1],
    ['cancel drops a pending trigger', 'cancel', 0],
  ] as const)('%s', (_name, action, expected) => {
    const { debounce, flushes } = setup();
    debounce.trigger();
    debounce[action]();
    vi.advanceTimersByTime(500);
    expect(flushes()).toBe(expected);
  });

  it('flushNow without a pending trigger does nothing', () => {
    const { debounce, flushes } = setup();
    debounce.flushNow();
    expect(flushes()).toBe(0);
  });
});
