import { describe, expect, it } from 'vitest';
import { exportedTo, hostCovers, hostsIntersect, resolveHost, splitNamespacedHost } from './hosts.ts';

describe('resolveHost', () => {
  it.each([
    ['short name', 'reviews', 'default', 'reviews.default.svc.cluster.local'],
    ['FQDN', 'reviews.shop.svc.cluster.local', 'default', 'reviews.shop.svc.cluster.local'],
    ['external host', 'httpbin.org', 'default', 'httpbin.org'],
    ['wildcard', '*', 'default', '*'],
    ['upper case', 'Reviews', 'shop', 'reviews.shop.svc.cluster.local'],
  ])('%s', (_name, host, namespace, expected) => {
    expect(resolveHost(host, namespace, 'cluster.local')).toBe(expected);
  });
});

describe('hostCovers / hostsIntersect', () => {
  it.each([
    ['*', 'a.example.com', true],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['a.example.com', 'a.example.com', true],
    ['a.example.com', 'b.example.com', false],
    ['*.example.com', '*.b.example.com', true],
    ['*.b.example.com', '*.example.com', false],
  ])('%s covers %s: %s', (pattern, host, expected) => {
    expect(hostCovers(pattern, host)).toBe(expected);
  });

  it('intersects either way', () => {
    expect(hostsIntersect('a.example.com', '*.example.com')).toBe(true);
    expect(hostsIntersect('a.example.com', 'b.example.com')).toBe(false);
  });
});

describe('exportedTo', () => {
  it.each([
    ['absent', undefined, 'a', 'b', true],
    ['*', ['*'], 'a', 'b', true],
    ['. from the same namespace', ['.'], 'a', 'a', true],
    ['. from another namespace', ['.'], 'a', 'b', false],
    ['a named namespace', ['b'], 'a', 'b', true],
    ['another named namespace', ['c'], 'a', 'b', false],
    ['~ (nowhere)', ['~'], 'a', 'a', false],
  ])('%s', (_name, exportTo, owner, namespace, expected) => {
    expect(exportedTo(exportTo, owner, namespace)).toBe(expected);
  });
});

describe('splitNamespacedHost', () => {
  it.each([
    ['ns/host', 'x', { namespace: 'ns', host: 'host' }],
    ['./*', 'x', { namespace: 'x', host: '*' }],
    ['*/Host.Example', 'x', { namespace: '*', host: 'host.example' }],
    ['bare.example', 'x', { namespace: '*', host: 'bare.example' }],
  ])('%s', (entry, owner, expected) => {
    expect(splitNamespacedHost(entry, owner)).toEqual(expected);
  });
});
