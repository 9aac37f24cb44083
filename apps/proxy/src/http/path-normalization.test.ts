import { describe, expect, it } from 'vitest';
import { normalizeRequestPath } from './path-normalization.ts';

describe('normalizeRequestPath', () => {
  it.each([
    { path: '/a/b', normalize: true, merge: true, expected: '/a/b' },
    { path: '/a/./b', normalize: true, merge: false, expected: '/a/b' },
    { path: '/a/../b', normalize: true, merge: false, expected: '/b' },
    { path: '/../../etc/passwd', normalize: true, merge: false, expected: '/etc/passwd' },
    { path: '/a/b/..', normalize: true, merge: false, expected: '/a/' },
    { path: '/a/.?x=/../y', normalize: true, merge: false, expected: '/a/?x=/../y' },
    { path: '//a///b', normalize: false, merge: true, expected: '/a/b' },
    { path: '//a/../b', normalize: false, merge: false, expected: '//a/../b' },
    { path: '/a//../b', normalize: true, merge: true, expected: '/b' },
  ])('$path (normalize $normalize, merge $merge) -> $expected', ({ path, normalize, merge, expected }) => {
    expect(normalizeRequestPath(path, normalize, merge)).toBe(expected);
  });
});
