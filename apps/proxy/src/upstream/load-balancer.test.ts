import { describe, expect, it } from 'vitest';
import type { LbPolicy } from '../config/cluster-config.ts';
import { hash32 } from './hash.ts';
import { type BalancedHost, createLoadBalancer } from './load-balancer.ts';

function hosts(weights: number[]): Array<BalancedHost & { active: number }> {
  return weights.map((weight, i) => ({ key: `10.0.0.${i}:80`, weight, active: 0 }));
}

/** A deterministic [0, 1) sequence (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const options = {
  choiceCount: 2,
  ringSize: { min: 1024, max: 8388608 },
  maglevTableSize: 65537,
  random: seeded(1),
};

function counts(policy: LbPolicy, weights: number[], n: number, hash?: (i: number) => number): number[] {
  const list = hosts(weights);
  const lb = createLoadBalancer(policy, list, { ...options, random: seeded(7) });
  const out = list.map(() => 0);
  for (let i = 0; i < n; i++) {
    const h = lb.pick(hash?.(i));
    out[list.indexOf(h as (typeof list)[number])]!++;
  }
  return out;
}

describe('createLoadBalancer', () => {
  it('round robin cycles through equal hosts in order', () => {
    expect(counts('ROUND_ROBIN', [1, 1, 1], 9)).toEqual([3, 3, 3]);
  });

  it('weighted round robin follows weights exactly over a period', () => {
    expect(counts('ROUND_ROBIN', [1, 2, 5], 80)).toEqual([10, 20, 50]);
  });

  it.each(['RANDOM', 'LEAST_REQUEST', 'RING_HASH', 'MAGLEV'] as const)(
    '%s spreads load over every host',
    (policy) => {
      const result = counts(
        policy,
        [1, 1, 1, 1],
        4000,
        policy === 'RING_HASH' || policy === 'MAGLEV' ? (i) => hash32(`key-${i}`) : undefined,
      );
      for (const c of result) expect(c).toBeGreaterThan(700);
    },
  );

  it.each(['RING_HASH', 'MAGLEV'] as const)(
    '%s maps one hash to one host, and keeps most keys when a host leaves',
    (policy) => {
      const four = hosts([1, 1, 1, 1]);
      const three = four.slice(0, 3);
      const lb4 = createLoadBalancer(policy, four, options);
      const lb3 = createLoadBalancer(policy, three, options);
      let kept = 0;
      let onRemaining = 0;
      for (let i = 0; i < 2000; i++) {
        const hash = hash32(`key-${i}`);
        expect(lb4.pick(hash)).toBe(lb4.pick(hash));
        const before = lb4.pick(hash)!;
        if (before.key !== four[3]!.key) {
          onRemaining++;
          if (lb3.pick(hash)!.key === before.key) kept++;
        }
      }
      // Ring sizes rescale with the host count (as Envoy's), so a few keys move between remaining hosts.
      expect(kept / onRemaining).toBeGreaterThan(0.75);
    },
  );

  it('least request prefers the less busy of two choices', () => {
    const list = hosts([1, 1]);
    list[0]!.active = 10;
    const lb = createLoadBalancer('LEAST_REQUEST', list, { ...options, random: seeded(3) });
    let idle = 0;
    for (let i = 0; i < 1000; i++) if (lb.pick(undefined) === list[1]) idle++;
    // P2C picks the busy host only when both choices land on it (~25%).
    expect(idle).toBeGreaterThan(650);
  });

  it('returns undefined for an empty host list', () => {
    expect(createLoadBalancer('ROUND_ROBIN', [], options).pick(undefined)).toBeUndefined();
  });
});
