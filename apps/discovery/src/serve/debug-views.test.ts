import type { Problem } from '@weft/config';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, type TypeSyncStatus } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import type { ConfigSource } from '../sources/config-source.ts';
import { buildConfigProblems, buildSyncz, findNodeId, typeSyncState } from './debug-views.ts';
import type { ProxyState } from './push-orchestrator.ts';

function typeStatus(overrides: Partial<TypeSyncStatus> = {}): TypeSyncStatus {
  return { sentVersion: 'v2', sentNonce: '2', ackedVersion: 'v2', ...overrides };
}

function proxyState(nodeId: string, overrides: Partial<ProxyState> = {}): ProxyState {
  return {
    nodeId,
    type: 'sidecar',
    streams: 1,
    pushVersion: '3',
    versions: { [CLUSTER_TYPE_URL]: 'v2' },
    warnings: [],
    consistencyProblems: [],
    generationError: undefined,
    ...overrides,
  };
}

describe('typeSyncState', () => {
  it.each([
    ['nothing sent', typeStatus({ sentVersion: '', sentNonce: '', ackedVersion: '' }), 'NOT SENT'],
    ['acked what was sent', typeStatus(), 'SYNCED'],
    ['sent, not acked yet', typeStatus({ ackedVersion: 'v1' }), 'STALE'],
    [
      'the last response NACKed',
      typeStatus({ ackedVersion: 'v1', lastNack: { version: 'v2', nonce: '2', message: 'bad', at: 0 } }),
      'NACKED',
    ],
    [
      'an older NACK, then acked',
      typeStatus({ lastNack: { version: 'v1', nonce: '1', message: 'bad', at: 0 } }),
      'SYNCED',
    ],
  ])('%s is %s', (_name, status, state) => {
    expect(typeSyncState(status)).toBe(state);
  });
});

describe('findNodeId', () => {
  const ids = [
    'sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local',
    'router~10.0.0.2~gateway.istio-system~istio-system.svc.cluster.local',
    'plain-id',
  ];
  it.each([
    ['a full node id', ids[0]!, ids[0]],
    ['name.namespace', 'gateway.istio-system', ids[1]],
    ['a non-Istio id', 'plain-id', 'plain-id'],
    ['an unknown id', 'ratings.default', undefined],
  ])('finds %s', (_name, query, expected) => {
    expect(findNodeId(ids, query)).toBe(expected);
  });

  it('refuses an ambiguous name.namespace', () => {
    const twice = ['sidecar~10.0.0.1~a.default~d', 'sidecar~10.0.0.2~a.default~d'];
    expect(findNodeId(twice, 'a.default')).toBeUndefined();
  });
});

describe('buildSyncz', () => {
  it('joins proxy states with their streams, by short type name, sorted by node id', () => {
    const view = buildSyncz(
      [
        proxyState('b', { consistencyProblems: ['CDS "x" refers to EDS "x", which is missing'] }),
        proxyState('a'),
      ],
      [
        {
          nodeId: 'b',
          streamId: 7,
          mode: 'sotw',
          types: { [LISTENER_TYPE_URL]: typeStatus({ ackedVersion: '' }) },
        },
        { nodeId: 'gone', streamId: 8, mode: 'sotw', types: {} },
      ],
    );
    expect(view.map((p) => p.nodeId)).toEqual(['a', 'b']);
    expect(view[1]).toMatchObject({
      proxyType: 'sidecar',
      pushVersion: '3',
      snapshotVersions: { CDS: 'v2' },
      streams: [{ streamId: 7, mode: 'sotw', types: { LDS: { state: 'STALE', sentVersion: 'v2' } } }],
      consistencyProblems: ['CDS "x" refers to EDS "x", which is missing'],
    });
    expect(view[0]!.streams).toEqual([]);
  });
});

describe('buildConfigProblems', () => {
  it('lists each source with its problems as structured data and one line of text', () => {
    const problem: Problem = {
      severity: 'error',
      source: { file: '/c/vs.yaml', line: 13 },
      kind: 'VirtualService',
      namespace: 'default',
      name: 'echo',
      path: 'spec.http[0].route[0].weight',
      message: 'must be between 0 and 100',
    };
    const source: ConfigSource = {
      name: 'directory:/c',
      ready: true,
      start: async () => {},
      stop: async () => {},
      problems: () => [problem],
    };
    expect(buildConfigProblems([source])).toEqual({
      total: 1,
      sources: [
        {
          source: 'directory:/c',
          ready: true,
          problems: [
            {
              ...problem,
              text: '/c/vs.yaml:13 VirtualService default/echo: spec.http[0].route[0].weight: must be between 0 and 100',
            },
          ],
        },
      ],
    });
  });
});
