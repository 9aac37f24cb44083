import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConfigObject } from '../resources/resource-types.ts';
import { createConfigStore } from './config-store.ts';
import type { ConfigEvent } from './store-types.ts';

const rule = (name: string, host = name, namespace = 'default'): ConfigObject<'DestinationRule'> => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, namespace },
  spec: { host },
});

function recorder() {
  const store = createConfigStore();
  const batches: string[][] = [];
  store.onChange((events: readonly ConfigEvent[]) => {
    batches.push(
      events.map(
        (e) =>
          `${e.type} ${e.object.metadata.name}${e.previous ? ` (was ${e.previous.spec === undefined ? '' : (e.previous.spec as { host: string }).host})` : ''}`,
      ),
    );
  });
  return { store, batches };
}

describe('createConfigStore', () => {
  it('applies, updates and deletes with events and revisions', () => {
    const { store, batches } = recorder();
    store.apply(rule('a'));
    store.apply(rule('a', 'b'));
    store.apply(rule('a', 'b'));
    store.delete('DestinationRule', 'default', 'a');
    store.delete('DestinationRule', 'default', 'a');
    expect(batches).toEqual([['add a'], ['update a (was a)'], ['delete a']]);
    expect(store.revision).toBe(3);
  });

  it('gets and lists by kind and namespace, sorted', () => {
    const { store } = recorder();
    store.apply(rule('b'));
    store.apply(rule('a', 'a', 'x'));
    store.apply(rule('c'));
    expect(store.get('DestinationRule', 'x', 'a')?.spec.host).toBe('a');
    expect(store.get('VirtualService', 'x', 'a')).toBeUndefined();
    expect(store.list('DestinationRule').map((o) => o.metadata.name)).toEqual(['b', 'c', 'a']);
    expect(store.list('DestinationRule', 'default').map((o) => o.metadata.name)).toEqual(['b', 'c']);
    expect(store.all()).toHaveLength(3);
  });

  it('hands out copies: changing a returned list does not change the store', () => {
    const { store } = recorder();
    store.replaceAll('files', [rule('a'), rule('b')]);
    store.all().pop();
    store.list('DestinationRule').reverse();
    expect(store.all().map((o) => o.metadata.name)).toEqual(['a', 'b']);
    expect(store.list('DestinationRule').map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });

  it('keeps the newest instance of unchanged content, silently', () => {
    const { store, batches } = recorder();
    const first = { ...rule('a'), source: { file: 'old.yaml', line: 1 } };
    const moved = { ...rule('a'), source: { file: 'new.yaml', line: 7 } };
    store.replaceAll('files', [first]);
    store.replaceAll('files', [moved]);
    store.replaceAll('files', [moved]);
    expect(batches).toEqual([['add a']]);
    expect(store.all()[0]?.source).toEqual({ file: 'new.yaml', line: 7 });
  });

  it('replaceAll diffs against what the same source put before, in one batch', () => {
    const { store, batches } = recorder();
    store.replaceAll('files', [rule('a'), rule('b')]);
    store.apply(rule('other'));
    store.replaceAll('files', [rule('b', 'changed'), rule('c')]);
    store.replaceAll('files', [rule('b', 'changed'), rule('c')]);
    expect(batches).toEqual([['add a', 'add b'], ['add other'], ['update b (was b)', 'add c', 'delete a']]);
    expect(store.all().map((o) => o.metadata.name)).toEqual(['b', 'c', 'other']);
  });

  it('never deletes an object another source or an apply wrote since', () => {
    const { store, batches } = recorder();
    store.replaceAll('s1', [rule('a'), rule('b')]);
    store.replaceAll('s2', [rule('a', 'from-s2')]);
    store.apply(rule('b', 'applied'));
    store.replaceAll('s1', []);
    expect(store.list('DestinationRule').map((o) => `${o.metadata.name}=${o.spec.host}`)).toEqual([
      'a=from-s2',
      'b=applied',
    ]);
    store.replaceAll('s2', []);
    expect(batches.at(-1)).toEqual(['delete a']);
  });

  it('stops calling a listener after unsubscribe, and other listeners still run when one throws', () => {
    const store = createConfigStore();
    const seen: number[] = [];
    const off = store.onChange(() => seen.push(1));
    store.onChange(() => {
      throw new Error('listener bug');
    });
    store.onChange(() => seen.push(3));
    expect(() => store.apply(rule('a'))).toThrow('listener bug');
    off();
    expect(() => store.apply(rule('b'))).toThrow('listener bug');
    expect(seen).toEqual([1, 3, 3]);
    expect(store.list('DestinationRule')).toHaveLength(2);
  });
});

describe('createConfigStore under random operations', () => {
  const name = fc.constantFrom('a', 'b', 'c', 'd');
  const host = fc.constantFrom('h1', 'h2');
  const op = fc.oneof(
    fc.record({ op: fc.constant('apply' as const), name, host }),
    fc.record({ op: fc.constant('delete' as const), name }),
    fc.record({
      op: fc.constant('replaceAll' as const),
      source: fc.constantFrom('s1', 's2'),
      objects: fc.array(fc.record({ name, host }), { maxLength: 4 }),
    }),
  );

  it('replaying its events rebuilds exactly its contents, and revision counts the batches', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const store = createConfigStore();
        const replay = new Map<string, string>();
        let batches = 0;
        store.onChange((events) => {
          batches++;
          expect(events.length).toBeGreaterThan(0);
          for (const e of events) {
            const key = e.object.metadata.name;
            if (e.type === 'delete') {
              expect(replay.has(key)).toBe(true);
              replay.delete(key);
            } else {
              expect(replay.has(key)).toBe(e.type === 'update');
              replay.set(key, (e.object.spec as { host: string }).host);
            }
          }
        });
        for (const o of ops) {
          if (o.op === 'apply') store.apply(rule(o.name, o.host));
          else if (o.op === 'delete') store.delete('DestinationRule', 'default', o.name);
          else
            store.replaceAll(
              o.source,
              o.objects.map((x) => rule(x.name, x.host)),
            );
        }
        const contents = new Map(
          store.all().map((o) => [o.metadata.name, (o.spec as { host: string }).host]),
        );
        expect(contents).toEqual(replay);
        expect(store.list('DestinationRule').map((o) => o.metadata.name)).toEqual([...replay.keys()].sort());
        expect(store.revision).toBe(batches);
      }),
      { numRuns: 300 },
    );
  });
});
