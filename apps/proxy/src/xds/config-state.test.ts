import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, resourceFromBody } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { edsCluster, filterChain, listener, tcpProxy } from '../testing/builders.ts';
import { ConfigState } from './config-state.ts';

const clusterResource = (name: string, extra = {}) =>
  resourceFromBody(CLUSTER_TYPE_URL, edsCluster(name, extra));

describe('ConfigState', () => {
  it('reports one message per rejected resource, with its name and field paths', () => {
    const state = new ConfigState();
    const problems = state.validate(CLUSTER_TYPE_URL, [
      clusterResource('ok'),
      clusterResource('bad', { lbPolicy: 'NOPE' }),
    ]);
    expect(problems).toEqual([expect.stringMatching(/^bad: lbPolicy: unsupported value "NOPE"/)]);
  });

  it('accepts what validate compiled and keeps compiled objects for unchanged resources', () => {
    const state = new ConfigState();
    const first = [clusterResource('a'), clusterResource('b')];
    expect(state.validate(CLUSTER_TYPE_URL, first)).toEqual([]);
    state.accept(CLUSTER_TYPE_URL, new Map(first.map((r) => [r.name, r])), 'v1');
    const a1 = state.clusters.get('a');
    const b1 = state.clusters.get('b');
    // Same content for a (new objects, as a new response decodes), changed b.
    const second = [clusterResource('a'), clusterResource('b', { lbPolicy: 'RANDOM' })];
    expect(state.validate(CLUSTER_TYPE_URL, second)).toEqual([]);
    state.accept(CLUSTER_TYPE_URL, new Map(second.map((r) => [r.name, r])), 'v2');
    expect(state.clusters.get('a')).toBe(a1);
    expect(state.clusters.get('b')).not.toBe(b1);
    expect(state.clusters.get('b')?.lbPolicy).toBe('RANDOM');
    expect(state.versions.get(CLUSTER_TYPE_URL)).toBe('v2');
  });

  it('lists the RDS and EDS names the config needs', () => {
    const state = new ConfigState();
    const l = resourceFromBody(LISTENER_TYPE_URL, listener('l', 1, [filterChain(tcpProxy('c'))]));
    state.validate(LISTENER_TYPE_URL, [l]);
    state.accept(LISTENER_TYPE_URL, new Map([[l.name, l]]), 'v1');
    const c = clusterResource('c', { edsClusterConfig: { serviceName: 'svc-c' } });
    state.validate(CLUSTER_TYPE_URL, [c]);
    state.accept(CLUSTER_TYPE_URL, new Map([[c.name, c]]), 'v1');
    expect(state.rdsNames()).toEqual([]);
    expect(state.edsNames()).toEqual(['svc-c']);
  });
});
