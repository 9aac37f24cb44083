import { describe, expect, it } from 'vitest';
import { duration, fractionalPercent, parseDurationMs, stringMatcher } from './values.ts';

describe('parseDurationMs', () => {
  it.each([
    ['1s', 1000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['100us', 0.1],
    ['0', 0],
    ['0s', 0],
  ])('%s -> %s ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each([[''], ['1'], ['s'], ['1x'], ['1s '], ['-1s'], ['1.s']])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});

describe('duration', () => {
  it.each([
    [0, { seconds: 0 }],
    [1500, { seconds: 1, nanos: 500_000_000 }],
    [250, { seconds: 0, nanos: 250_000_000 }],
    [0.1, { seconds: 0, nanos: 100_000 }],
  ])('%s ms', (ms, expected) => {
    expect(duration(ms)).toEqual(expected);
  });
});

describe('fractionalPercent', () => {
  it.each([
    [100, 1_000_000],
    [12.5, 125_000],
    [0.0001, 1],
    [150, 1_000_000],
    [-3, 0],
  ])('%s%%', (percent, numerator) => {
    expect(fractionalPercent(percent)).toEqual({ numerator, denominator: 'MILLION' });
  });
});

describe('stringMatcher', () => {
  it.each([
    [{ exact: 'a' }, false, { exact: 'a' }],
    [{ prefix: '/api' }, true, { ignoreCase: true, prefix: '/api' }],
    [{ regex: 'v[0-9]+' }, false, { safeRegex: { regex: 'v[0-9]+' } }],
  ])('%j (ignoreCase %s)', (match, ignoreCase, expected) => {
    expect(stringMatcher(match, ignoreCase)).toEqual(expected);
  });
});
