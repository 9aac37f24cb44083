import { describe, expect, it } from 'vitest';
import { routeMatches, selectVirtualHost, stringMatches } from './simulate.ts';

describe('selectVirtualHost (Envoy domain order)', () => {
  const hosts = [
    { name: 'star', domains: ['*'] },
    { name: 'prefix', domains: ['api.*'] },
    { name: 'suffix', domains: ['*.example.com'] },
    { name: 'longer-suffix', domains: ['*.eu.example.com'] },
    { name: 'exact', domains: ['api.example.com', 'api.example.com:8080'] },
  ];
  it.each([
    ['api.example.com', 'exact'],
    ['API.example.com:8080', 'exact'],
    ['x.eu.example.com', 'longer-suffix'],
    ['x.example.com', 'suffix'],
    ['api.other.org', 'prefix'],
    ['other.org', 'star'],
  ])('%s -> %s', (authority, name) => {
    expect(selectVirtualHost(hosts, authority)?.name).toBe(name);
  });

  it('finds nothing without a catch-all', () => {
    expect(selectVirtualHost([{ name: 'a', domains: ['a'] }], 'b')).toBeUndefined();
  });
});

describe('routeMatches', () => {
  const headers = (entries: Record<string, string>) => new Map(Object.entries(entries));
  it.each([
    ['prefix', { prefix: '/api' }, '/api/x', {}, true],
    ['path is exact', { path: '/a' }, '/a/b', {}, false],
    ['regex is anchored', { safeRegex: { regex: '/a[0-9]' } }, '/a1x', {}, false],
    ['case-insensitive path', { path: '/Up', caseSensitive: { value: false } }, '/up', {}, true],
    ['header present', { prefix: '/', headers: [{ name: 'x', presentMatch: true }] }, '/', { x: '' }, true],
    [
      'header inverted',
      { prefix: '/', headers: [{ name: 'x', stringMatch: { exact: 'a' }, invertMatch: true }] },
      '/',
      { x: 'a' },
      false,
    ],
    [
      'query parameter',
      { prefix: '/', queryParameters: [{ name: 'q', stringMatch: { exact: '1' } }] },
      '/',
      {},
      false,
    ],
  ])('%s', (_name, match, path, hs, expected) => {
    expect(routeMatches(match, path, new URLSearchParams(), headers(hs))).toBe(expected);
  });

  it.each([
    [{ exact: 'A', ignoreCase: true }, 'a', true],
    [{ suffix: '.js' }, 'app.js', true],
    [{ contains: 'mid' }, 'amidst', true],
    [{ safeRegex: { regex: 'v[12]' } }, 'v3', false],
  ])('stringMatches(%j, %s) = %s', (matcher, value, expected) => {
    expect(stringMatches(matcher, value)).toBe(expected);
  });
});
