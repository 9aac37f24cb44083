import { describe, expect, it } from 'vitest';
import { formatSpiffeId, parseSpiffeId, parseWorkloadId, validateWorkloadIdentity } from './spiffe-id.ts';

describe('parseSpiffeId', () => {
  it.each([
    {
      name: 'workload id',
      input: 'spiffe://cluster.local/ns/default/sa/reviews',
      ns: 'default',
      sa: 'reviews',
    },
    { name: 'trust domain only', input: 'spiffe://example.org', ns: undefined, sa: undefined },
    { name: 'other path', input: 'spiffe://example.org/host/web-1', ns: undefined, sa: undefined },
    { name: 'allowed punctuation', input: 'spiffe://a_b-c.d/ns/x.y-z_1/sa/A.b', ns: 'x.y-z_1', sa: 'A.b' },
  ])('accepts $name', ({ input, ns, sa }) => {
    const result = parseSpiffeId(input);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.id.namespace).toBe(ns);
      expect(result.id.serviceAccount).toBe(sa);
    }
  });

  it.each([
    { name: 'wrong scheme', input: 'https://cluster.local/ns/a/sa/b', field: 'scheme' },
    { name: 'uppercase scheme', input: 'SPIFFE://cluster.local/ns/a/sa/b', field: 'scheme' },
    { name: 'uppercase trust domain', input: 'spiffe://Cluster.local/ns/a/sa/b', field: 'trustDomain' },
    { name: 'port', input: 'spiffe://cluster.local:8080/ns/a', field: 'trustDomain' },
    { name: 'userinfo', input: 'spiffe://user@cluster.local/ns/a', field: 'trustDomain' },
    { name: 'empty trust domain', input: 'spiffe:///ns/a', field: 'trustDomain' },
    { name: 'empty segment', input: 'spiffe://td/ns//sa/b', field: 'path[1]' },
    { name: 'dot segment', input: 'spiffe://td/ns/./sa/b', field: 'path[1]' },
    { name: 'dot-dot segment', input: 'spiffe://td/ns/../b', field: 'path[1]' },
    { name: 'trailing slash', input: 'spiffe://td/ns/a/', field: 'path' },
    { name: 'bad character', input: 'spiffe://td/ns/a b', field: 'path[1]' },
    { name: 'percent encoding', input: 'spiffe://td/ns/a%20b', field: 'path[1]' },
    { name: 'query', input: 'spiffe://td/ns/a?x=1', field: '' },
    { name: 'fragment', input: 'spiffe://td/ns/a#x', field: '' },
    { name: 'too long', input: `spiffe://td/${'a'.repeat(2040)}`, field: '' },
  ])('rejects $name with a problem at "$field"', ({ input, field }) => {
    const result = parseSpiffeId(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.field)).toContain(field);
  });
});

describe('workload identities', () => {
  it('formats and parses back', () => {
    const identity = { trustDomain: 'cluster.local', namespace: 'bookinfo', serviceAccount: 'ratings' };
    const id = formatSpiffeId(identity);
    expect(id).toBe('spiffe://cluster.local/ns/bookinfo/sa/ratings');
    const parsed = parseWorkloadId(id);
    expect(parsed).toEqual({ ok: true, identity });
  });

  it('refuses a SPIFFE ID that is not /ns/NS/sa/SA', () => {
    const parsed = parseWorkloadId('spiffe://cluster.local/host/web');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]?.field).toBe('path');
  });

  it('names each bad part', () => {
    const problems = validateWorkloadIdentity({ trustDomain: 'TD', namespace: '', serviceAccount: 'a/b' });
    expect(problems.map((p) => p.field)).toEqual(['trustDomain', 'namespace', 'serviceAccount']);
  });
});
