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

  it('replaceAll diffs against what the same source put before, in one batch', () => {
    const { store, batches } = recorder();
    store.replaceAll('files', [rule('a'), rule('b')]);
    store.apply(rule('other'));
    store.replaceAll('files', [rule('b', 'changed'), rule('c')]);
    store.replaceAll('files', [rule('b', 'changed'), rule('c')]);
    expect(batches).toEqual([['add a', 'add b'], ['add other'], ['update b (was b)', 'add c', 'delete a']]);
    expect(store.all().map((o) => o.metadata.name)).toEqual(['b', 'c', 'other']);
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
