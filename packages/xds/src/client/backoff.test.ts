import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.ts';

describe('createBackoff', () => {
  it('doubles from initialMs up to maxMs without jitter, and starts over after reset', () => {
    const backoff = createBackoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it.each([
    ['random 0 keeps the full delay', 0, 1000],
    ['random 0.99 takes off almost the whole jitter fraction', 0.99, 505],
    ['random 0.5 takes off half the jitter', 0.5, 750],
  ])('%s', (_name, random, expected) => {
    const backoff = createBackoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5 }, () => random);
    expect(backoff.next()).toBe(expected);
  });
});
