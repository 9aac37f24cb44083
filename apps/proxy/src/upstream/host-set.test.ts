import { describe, expect, it } from 'vitest';
import { compileCluster } from '../config/cluster-config.ts';
import { compileClusterLoadAssignment } from '../config/endpoint-config.ts';
import type { Body } from '../config/problems.ts';
import { clusterLoadAssignment, type EndpointSpec, edsCluster } from '../testing/builders.ts';
import { ClusterManager } from './cluster-manager.ts';

function manager(endpoints: EndpointSpec[], clusterExtra: Body = {}, now = () => 1000) {
  let r = 0;
  // A low-discrepancy [0, 1) sequence: deterministic and evenly spread.
  const random = (): number => {
    r = (r + 0.618034) % 1;
    return r;
  };
  const cm = new ClusterManager({ now, random });
  const cluster = compileCluster(edsCluster('c', clusterExtra));
  const cla = compileClusterLoadAssignment(clusterLoadAssignment('c', endpoints));
  if (!cluster.ok || !cla.ok) throw new Error('bad fixture');
  cm.setClusters(new Map([['c', cluster.value]]));
  cm.setEndpoints(new Map([['c', cla.value]]));
  return cm.get('c')!;
}

function spread(cluster: ReturnType<typeof manager>, n = 1000): Record<number, number> {
  const out: Record<number, number> = {};
  for (let i = 0; i < n; i++) {
    const port = cluster.hostSet.pick(undefined)?.port ?? 0;
    out[port] = (out[port] ?? 0) + 1;
  }
  return out;
}

describe('HostSet', () => {
  it('skips unhealthy endpoints', () => {
    const c = manager([
      { port: 1 },
      { port: 2, health: 'UNHEALTHY' },
      { port: 3 },
      { port: 4, health: 'HEALTHY' },
    ]);
    expect(Object.keys(spread(c)).sort()).toEqual(['1', '3', '4']);
  });

  it('uses every host in panic (healthy share under the threshold)', () => {
    const c = manager([{ port: 1 }, { port: 2, health: 'UNHEALTHY' }, { port: 3, health: 'UNHEALTHY' }]);
    expect(Object.keys(spread(c)).sort()).toEqual(['1', '2', '3']);
  });

  it('fails over to the next priority only for the unhealthy share', () => {
    const c = manager([
      { port: 1 },
      { port: 2, health: 'UNHEALTHY' },
      { port: 3 },
      { port: 4 },
      { port: 9, priority: 1 },
    ]);
    // Priority 0 is 75% healthy: 0.75 x 1.4 > 1, so it keeps all the load.
    expect(spread(c)[9]).toBeUndefined();
    const degraded = manager([
      { port: 1 },
      { port: 2, health: 'UNHEALTHY' },
      { port: 3, health: 'UNHEALTHY' },
      { port: 4 },
      { port: 9, priority: 1 },
    ]);
    // 50% healthy x 1.4 = 70% stays at priority 0, 30% spills to priority 1.
    const counts = spread(degraded, 2000);
    expect((counts[9] ?? 0) / 2000).toBeGreaterThan(0.22);
    expect((counts[9] ?? 0) / 2000).toBeLessThan(0.38);
  });

  it('weights localities when locality-weighted LB is on', () => {
    const cm = new ClusterManager({ random: Math.random });
    const cluster = compileCluster(edsCluster('c', { commonLbConfig: { localityWeightedLbConfig: {} } }));
    const body = clusterLoadAssignment('c', [
      { port: 1, zone: 'a' },
      { port: 2, zone: 'b' },
    ]);
    const groups = body.endpoints as Array<Record<string, unknown>>;
    groups[0]!.loadBalancingWeight = { value: 1 };
    groups[1]!.loadBalancingWeight = { value: 3 };
    const cla = compileClusterLoadAssignment(body);
    if (!cluster.ok || !cla.ok) throw new Error('bad fixture');
    cm.setClusters(new Map([['c', cluster.value]]));
    cm.setEndpoints(new Map([['c', cla.value]]));
    const counts = spread(cm.get('c')!, 4000);
    expect((counts[2] ?? 0) / 4000).toBeGreaterThan(0.68);
    expect((counts[2] ?? 0) / 4000).toBeLessThan(0.82);
  });

  it('ejects a host after consecutive 5xx and brings it back after the ejection time', () => {
    let now = 1000;
    const c = manager(
      [{ port: 1 }, { port: 2 }],
      { outlierDetection: { consecutive_5xx: { value: 3 }, maxEjectionPercent: { value: 50 } } },
      () => now,
    );
    const bad = c.hostSet.hosts[0]!;
    for (let i = 0; i < 3; i++) c.recordOutcome(bad, 503);
    expect(c.stats.outlier_detection_ejections_total).toBe(1);
    expect(Object.keys(spread(c, 100))).toEqual(['2']);
    now += 30_001;
    expect(Object.keys(spread(c, 100)).sort()).toEqual(['1', '2']);
  });

  it('keeps host counters across EDS updates', () => {
    const c = manager([{ port: 1 }]);
    c.hostSet.hosts[0]!.requestsTotal = 5;
    const cla = compileClusterLoadAssignment(clusterLoadAssignment('c', [{ port: 1 }, { port: 2 }]));
    if (!cla.ok) throw new Error('bad fixture');
    c.updateEndpoints(cla.value);
    expect(c.hostSet.hosts.map((h) => h.requestsTotal)).toEqual([5, 0]);
  });
});
