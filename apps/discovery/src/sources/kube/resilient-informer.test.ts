import { describe, expect, it } from 'vitest';
import { backoffDelay } from './resilient-informer.ts';

describe('backoffDelay', () => {
  const backoff = { initialMs: 100, maxMs: 1000 };
  it.each([
    { name: 'first retry, no jitter drawn', attempt: 0, random: 0.999999, expected: 100 },
    { name: 'first retry, most jitter', attempt: 0, random: 0, expected: 50 },
    { name: 'doubles per attempt', attempt: 2, random: 0.999999, expected: 400 },
    { name: 'capped at maxMs', attempt: 10, random: 0.999999, expected: 1000 },
    { name: 'capped and jittered', attempt: 50, random: 0.5, expected: 750 },
  ])('$name', ({ attempt, random, expected }) => {
    expect(backoffDelay(attempt, backoff, () => random)).toBe(expected);
  });
});
