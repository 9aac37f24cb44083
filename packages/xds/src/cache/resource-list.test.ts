import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Resource } from '../resources/resource.ts';
import { buildCluster, buildClusterLoadAssignment } from '../testing/resource-builders.ts';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL } from '../type-urls.ts';
import { composeResourceList, ResourceMapUnion, resourceListParts } from './resource-list.ts';
import { createSnapshot, resourceSetVersion, SnapshotError } from './snapshot.ts';

/** Distinct cluster names with a timeout each, cut into consecutive parts at `cuts`. */
const splitClusters = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9.|-]{0,12}$/), fc.integer({ min: 1, max: 30 })), {
    selector: ([name]) => name,
    minLength: 0,
    maxLength: 25,
  })
  .chain((entries) =>
    fc
      .uniqueArray(fc.integer({ min: 0, max: entries.length }), { maxLength: 4 })
      .map((cuts) => ({ entries, cuts: cuts.sort((a, b) => a - b) })),
  );

function clusters(entries: readonly (readonly [string, number])[]): Resource[] {
  return entries.map(([name, seconds]) => buildCluster(name, { connectTimeout: { seconds } }));
}

function partsAt<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const parts: T[][] = [];
  let from = 0;
  for (const cut of [...cuts, items.length]) {
    parts.push(items.slice(from, cut));
    from = cut;
  }
  return parts;
}

describe('composeResourceList', () => {
  it('is the concatenation of its parts and remembers the non-empty ones', () => {
    const a = [buildCluster('a'), buildCluster('b')];
    const b = [buildCluster('c')];
    const list = composeResourceList([a, [], b]);
    expect(list.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(resourceListParts(list)).toEqual([a, b]);
    expect(resourceListParts(a)).toEqual([a]);
  });

  it('gives a snapshot the same versions and resources whatever the split (property)', () => {
    fc.assert(
      fc.property(splitClusters, ({ entries, cuts }) => {
        const flat = clusters(entries);
        const composed = composeResourceList(partsAt(flat, cuts));
        const one = createSnapshot({ [CLUSTER_TYPE_URL]: flat });
        const two = createSnapshot({ [CLUSTER_TYPE_URL]: composed });
        const reversed = createSnapshot({ [CLUSTER_TYPE_URL]: [...flat].reverse() });
        expect(two.version(CLUSTER_TYPE_URL)).toBe(one.version(CLUSTER_TYPE_URL));
        expect(reversed.version(CLUSTER_TYPE_URL)).toBe(one.version(CLUSTER_TYPE_URL));
        expect([...two.resources(CLUSTER_TYPE_URL)]).toEqual([...one.resources(CLUSTER_TYPE_URL)]);
        expect(two.version(CLUSTER_TYPE_URL) === '').toBe(flat.length === 0);
      }),
    );
  });

  it('changes the version when any member changes, is added or is removed (property)', () => {
    fc.assert(
      fc.property(splitClusters, fc.nat(), ({ entries, cuts }, pick) => {
        fc.pre(entries.length > 0);
        const flat = clusters(entries);
        const index = pick % flat.length;
        const base = createSnapshot({ [CLUSTER_TYPE_URL]: composeResourceList(partsAt(flat, cuts)) });
        const changedEntries = entries.map(([name, seconds], i): [string, number] =>
          i === index ? [name, seconds + 1] : [name, seconds],
        );
        const changed = createSnapshot({ [CLUSTER_TYPE_URL]: clusters(changedEntries) });
        const removed = createSnapshot({ [CLUSTER_TYPE_URL]: flat.filter((_, i) => i !== index) });
        const versions = [base, changed, removed].map((s) => s.version(CLUSTER_TYPE_URL));
        expect(new Set(versions).size).toBe(3);
      }),
    );
  });

  it('rejects a name repeated across parts', () => {
    const list = composeResourceList([[buildCluster('a'), buildCluster('b')], [buildCluster('b')]]);
    expect(() => createSnapshot({ [CLUSTER_TYPE_URL]: list })).toThrow(SnapshotError);
    expect(() => createSnapshot({ [CLUSTER_TYPE_URL]: list })).toThrow('duplicate CDS resource "b"');
  });

  it('indexes a part shared by several snapshots once and serves it through a union', () => {
    const shared = [buildCluster('out-a'), buildCluster('out-b')];
    const endpoints = [buildClusterLoadAssignment('out-a', []), buildClusterLoadAssignment('out-b', [])];
    const snapshots = ['in-1', 'in-2'].map((own) =>
      createSnapshot({
        [CLUSTER_TYPE_URL]: composeResourceList([shared, [buildCluster(own, { type: 'STATIC' })]]),
        [ENDPOINT_TYPE_URL]: endpoints,
      }),
    );
    const [one, two] = snapshots.map((s) => s.resources(CLUSTER_TYPE_URL) as ResourceMapUnion);
    expect(one).toBeInstanceOf(ResourceMapUnion);
    expect(one?.parts[0]).toBe(two?.parts[0]);
    expect(snapshots.map((s) => s.consistencyCheck())).toEqual([[], []]);
  });

  it('still reports a missing reference of a shared part in each snapshot that lacks it', () => {
    const shared = [buildCluster('out-a')];
    const complete = createSnapshot({
      [CLUSTER_TYPE_URL]: composeResourceList([shared, [buildCluster('in', { type: 'STATIC' })]]),
      [ENDPOINT_TYPE_URL]: [buildClusterLoadAssignment('out-a', [])],
    });
    const lacking = createSnapshot({
      [CLUSTER_TYPE_URL]: composeResourceList([shared, [buildCluster('in', { type: 'STATIC' })]]),
    });
    expect(complete.consistencyCheck()).toEqual([]);
    expect(lacking.consistencyCheck()).toEqual(['CDS "out-a" refers to EDS "out-a", which is missing']);
    expect(complete.consistencyCheck()).toEqual([]);
  });
});

describe('ResourceMapUnion', () => {
  const a = new Map([['x', buildCluster('x')]]);
  const b = new Map([
    ['y', buildCluster('y')],
    ['z', buildCluster('z')],
  ]);
  const union = new ResourceMapUnion([a, b]);
  const plain = new Map([...a, ...b]);

  it.each([
    ['size', (m: ReadonlyMap<string, Resource>) => m.size],
    ['keys', (m: ReadonlyMap<string, Resource>) => [...m.keys()]],
    ['values', (m: ReadonlyMap<string, Resource>) => [...m.values()]],
    ['entries', (m: ReadonlyMap<string, Resource>) => [...m.entries()]],
    ['iteration', (m: ReadonlyMap<string, Resource>) => [...m]],
    ['get and has', (m: ReadonlyMap<string, Resource>) => ['x', 'z', 'w'].map((n) => [m.get(n), m.has(n)])],
    [
      'forEach',
      (m: ReadonlyMap<string, Resource>) => {
        const seen: string[] = [];
        m.forEach((resource, name) => {
          seen.push(`${name}=${resource.name}`);
        });
        return seen;
      },
    ],
  ])('answers %s as the plain map of its parts does', (_name, read) => {
    expect(read(union)).toEqual(read(plain));
  });

  it('has the set version of the plain map', () => {
    expect(resourceSetVersion(union)).toBe(resourceSetVersion(plain));
  });
});
