import { describe, expect, it } from 'vitest';
import { buildCluster } from '../testing/resource-builders.ts';
import { CLUSTER_TYPE_URL } from '../type-urls.ts';
import { createSnapshot, type Snapshot } from './snapshot.ts';
import { createSnapshotCache } from './snapshot-cache.ts';

const snapshotOf = (...names: string[]) =>
  createSnapshot({ [CLUSTER_TYPE_URL]: names.map((n) => buildCluster(n)) });

describe('createSnapshotCache', () => {
  it('notifies only the watchers of the node whose snapshot changed', () => {
    const cache = createSnapshotCache();
    const seen: Record<string, Snapshot[]> = { a: [], b: [] };
    cache.watch('a', (s) => seen.a?.push(s));
    cache.watch('b', (s) => seen.b?.push(s));
    const first = snapshotOf('x');
    cache.setSnapshot('a', first);
    cache.setSnapshot('a', first);
    expect(seen.a).toEqual([first]);
    expect(seen.b).toEqual([]);
    expect(cache.getSnapshot('a')).toBe(first);
    expect(cache.nodeIds()).toEqual(['a']);
  });

  it('calls a new watcher at once with the current snapshot, and stops after cancel', () => {
    const cache = createSnapshotCache();
    const first = snapshotOf('x');
    cache.setSnapshot('a', first);
    const seen: Snapshot[] = [];
    const cancel = cache.watch('a', (s) => seen.push(s));
    expect(seen).toEqual([first]);
    cancel();
    cancel();
    cache.setSnapshot('a', snapshotOf('y'));
    expect(seen).toEqual([first]);
  });

  it('keeps notifying the other watchers when one throws', () => {
    const errors: unknown[] = [];
    const cache = createSnapshotCache({ onWatcherError: (e) => errors.push(e) });
    const seen: Snapshot[] = [];
    cache.watch('a', () => {
      throw new Error('boom');
    });
    cache.watch('a', (s) => seen.push(s));
    cache.setSnapshot('a', snapshotOf('x'));
    expect(seen).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('forgets a cleared snapshot', () => {
    const cache = createSnapshotCache();
    cache.setSnapshot('a', snapshotOf('x'));
    cache.clearSnapshot('a');
    expect(cache.getSnapshot('a')).toBeUndefined();
  });
});
