/**
 * Load-balancing algorithms over one list of hosts, built once per host-set
 * change (EDS update, ejection) and consulted per request without
 * allocation: round robin (smooth weighted), least request (power of
 * `choiceCount` choices), random (weighted), ring hash and maglev.
 *
 * See Envoy's "Supported load balancers" architecture doc.
 */
import type { LbPolicy } from '../config/cluster-config.ts';
import { hash32 } from './hash.ts';

/** What a balancer reads of a host. `active` is the number of requests in flight. */
export interface BalancedHost {
  readonly key: string;
  readonly weight: number;
  readonly active: number;
}

/** Picks one host; `hash` is the request's hash-policy value (ring hash and maglev), if any. */
export interface LoadBalancer<H extends BalancedHost> {
  pick(hash: number | undefined): H | undefined;
}

export interface LoadBalancerOptions {
  readonly choiceCount: number;
  readonly ringSize: { readonly min: number; readonly max: number };
  readonly maglevTableSize: number;
  /** [0, 1) source; default Math.random. */
  readonly random: () => number;
}

/** Builds the balancer for `policy` over `hosts` (which must not change afterwards). */
export function createLoadBalancer<H extends BalancedHost>(
  policy: LbPolicy,
  hosts: readonly H[],
  options: LoadBalancerOptions,
): LoadBalancer<H> {
  if (hosts.length === 0) return { pick: () => undefined };
  switch (policy) {
    case 'ROUND_ROBIN':
      return roundRobin(hosts);
    case 'LEAST_REQUEST':
      return leastRequest(hosts, options.choiceCount, options.random);
    case 'RANDOM':
      return weightedRandom(hosts, options.random);
    case 'RING_HASH':
      return ringHash(hosts, options);
    case 'MAGLEV':
      return maglev(hosts, options);
  }
}

function uniformWeights(hosts: readonly BalancedHost[]): boolean {
  const w = hosts[0]?.weight;
  return hosts.every((h) => h.weight === w);
}

/** Round robin; smooth weighted round robin (as nginx) when weights differ. */
function roundRobin<H extends BalancedHost>(hosts: readonly H[]): LoadBalancer<H> {
  if (uniformWeights(hosts)) {
    let next = 0;
    return {
      pick: () => {
        const host = hosts[next];
        next = next + 1 === hosts.length ? 0 : next + 1;
        return host;
      },
    };
  }
  const current = new Float64Array(hosts.length);
  const total = hosts.reduce((sum, h) => sum + h.weight, 0);
  return {
    pick: () => {
      let best = 0;
      for (let i = 0; i < hosts.length; i++) {
        current[i] = (current[i] ?? 0) + (hosts[i]?.weight ?? 0);
        if ((current[i] ?? 0) > (current[best] ?? 0)) best = i;
      }
      current[best] = (current[best] ?? 0) - total;
      return hosts[best];
    },
  };
}

/** Least request: the least busy of `choiceCount` random hosts (P2C by default). */
function leastRequest<H extends BalancedHost>(
  hosts: readonly H[],
  choiceCount: number,
  random: () => number,
): LoadBalancer<H> {
  return {
    pick: () => {
      let best: H | undefined;
      for (let i = 0; i < choiceCount; i++) {
        const candidate = hosts[Math.floor(random() * hosts.length)];
        if (candidate && (!best || candidate.active / candidate.weight < best.active / best.weight))
          best = candidate;
      }
      return best;
    },
  };
}

function weightedRandom<H extends BalancedHost>(hosts: readonly H[], random: () => number): LoadBalancer<H> {
  if (uniformWeights(hosts)) return { pick: () => hosts[Math.floor(random() * hosts.length)] };
  const cumulative: number[] = [];
  let total = 0;
  for (const h of hosts) {
    total += h.weight;
    cumulative.push(total);
  }
  return {
    pick: () => {
      const ticket = random() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] ?? 0) > ticket) hi = mid;
        else lo = mid + 1;
      }
      return hosts[lo];
    },
  };
}

/**
 * Ketama-style ring: each host gets entries proportional to its weight so
 * the ring holds between min and max entries; lookup is a binary search for
 * the first entry at or after the hash (wrapping).
 */
function ringHash<H extends BalancedHost>(
  hosts: readonly H[],
  options: LoadBalancerOptions,
): LoadBalancer<H> {
  const totalWeight = hosts.reduce((sum, h) => sum + h.weight, 0);
  const minWeight = Math.min(...hosts.map((h) => h.weight / totalWeight));
  const scale = Math.min(Math.ceil(minWeight * options.ringSize.min) / minWeight, options.ringSize.max);
  const entries: Array<{ hash: number; host: H }> = [];
  for (const host of hosts) {
    const count = Math.max(1, Math.round((scale * host.weight) / totalWeight));
    for (let i = 0; i < count; i++) entries.push({ hash: hash32(`${host.key}_${i}`), host });
  }
  entries.sort((a, b) => a.hash - b.hash);
  const hashes = Uint32Array.from(entries.map((e) => e.hash));
  const ring = entries.map((e) => e.host);
  return {
    pick: (hash) => {
      const h = (hash ?? Math.floor(options.random() * 2 ** 32)) >>> 0;
      let lo = 0;
      let hi = hashes.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((hashes[mid] ?? 0) < h) lo = mid + 1;
        else hi = mid;
      }
      return ring[lo === ring.length ? 0 : lo];
    },
  };
}

/** Maglev lookup table (Eisenbud et al., 2016), weighted by filling turns in proportion to weight. */
function maglev<H extends BalancedHost>(hosts: readonly H[], options: LoadBalancerOptions): LoadBalancer<H> {
  const size = options.maglevTableSize;
  const table = new Int32Array(size).fill(-1);
  const offsets = hosts.map((h) => hash32(h.key, 0x1234567) % size);
  const skips = hosts.map((h) => (hash32(h.key, 0x7654321) % (size - 1)) + 1);
  const nexts = hosts.map(() => 0);
  const maxWeight = Math.max(...hosts.map((h) => h.weight));
  const credit = hosts.map(() => 0);
  let filled = 0;
  while (filled < size) {
    for (let i = 0; i < hosts.length && filled < size; i++) {
      credit[i] = (credit[i] ?? 0) + (hosts[i]?.weight ?? 1) / maxWeight;
      if ((credit[i] ?? 0) < 1) continue;
      credit[i] = (credit[i] ?? 0) - 1;
      let slot = ((offsets[i] ?? 0) + (nexts[i] ?? 0) * (skips[i] ?? 1)) % size;
      while (table[slot] !== -1) {
        nexts[i] = (nexts[i] ?? 0) + 1;
        slot = ((offsets[i] ?? 0) + (nexts[i] ?? 0) * (skips[i] ?? 1)) % size;
      }
      table[slot] = i;
      nexts[i] = (nexts[i] ?? 0) + 1;
      filled++;
    }
  }
  return {
    pick: (hash) => {
      const h = (hash ?? Math.floor(options.random() * 2 ** 32)) >>> 0;
      return hosts[table[h % size] ?? 0];
    },
  };
}
