import { describe, expect, it } from 'vitest';
import { PkiError } from './problems.ts';
import { createRotationClock, validateRotationOptions } from './rotation-clock.ts';

const HOUR = 3600_000;
const notBefore = new Date(Date.UTC(2026, 0, 1, 0, 0, 0));
const notAfter = new Date(notBefore.getTime() + 24 * HOUR);

describe('createRotationClock', () => {
  it.each([
    { name: 'default half-life, no jitter drawn', options: {}, random: 0.5, expectedHours: 12 },
    { name: 'largest jitter later', options: {}, random: 1, expectedHours: 12 + 0.24 },
    { name: 'largest jitter earlier', options: {}, random: 0, expectedHours: 12 - 0.24 },
    {
      name: 'renew at 80%',
      options: { renewAtShare: 0.8, jitterShare: 0 },
      random: 0.9,
      expectedHours: 19.2,
    },
    {
      name: 'wide jitter stays within lifetime',
      options: { renewAtShare: 0.99, jitterShare: 0.4 },
      random: 1,
      expectedHours: 24,
    },
  ])('$name', ({ options, random, expectedHours }) => {
    const clock = createRotationClock({ ...options, random: () => random, clock: () => notBefore.getTime() });
    expect(clock.nextRenewal(notBefore, notAfter).getTime()).toBeCloseTo(
      notBefore.getTime() + expectedHours * HOUR,
      -1,
    );
  });

  it('spreads renewals of certificates issued together', () => {
    let seed = 1;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const clock = createRotationClock({ random });
    const times = new Set(Array.from({ length: 50 }, () => clock.nextRenewal(notBefore, notAfter).getTime()));
    expect(times.size).toBeGreaterThan(40);
    for (const t of times)
      expect(Math.abs(t - (notBefore.getTime() + 12 * HOUR))).toBeLessThanOrEqual(0.24 * HOUR);
  });

  it('delayMs counts from the injected clock and is 0 when overdue', () => {
    let now = notBefore.getTime() + 2 * HOUR;
    const clock = createRotationClock({ random: () => 0.5, clock: () => now });
    expect(clock.delayMs(notBefore, notAfter)).toBe(10 * HOUR);
    now = notAfter.getTime();
    expect(clock.delayMs(notBefore, notAfter)).toBe(0);
  });

  it.each([
    { name: 'share of 0', options: { renewAtShare: 0 }, field: 'renewAtShare' },
    { name: 'share of 1', options: { renewAtShare: 1 }, field: 'renewAtShare' },
    { name: 'negative jitter', options: { jitterShare: -0.1 }, field: 'jitterShare' },
    { name: 'NaN share', options: { renewAtShare: Number.NaN }, field: 'renewAtShare' },
  ])('rejects $name', ({ options, field }) => {
    expect(validateRotationOptions(options).map((p) => p.field)).toEqual([field]);
    expect(() => createRotationClock(options)).toThrow(PkiError);
  });
});
