/** The in-memory config store. */
import { isDeepStrictEqual } from 'node:util';
import type { ConfigObject, Kind } from '../resources/resource-types.ts';
import type { ConfigEvent, ConfigListener, ConfigStore } from './store-types.ts';

/** `kind/namespace/name`, the store's key. */
export function configKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function keyOf(object: ConfigObject): string {
  return configKey(object.kind, object.metadata.namespace, object.metadata.name);
}

/** Same content, wherever it was read from. */
function sameContent(a: ConfigObject, b: ConfigObject): boolean {
  return (
    a.apiVersion === b.apiVersion &&
    isDeepStrictEqual(a.metadata, b.metadata) &&
    isDeepStrictEqual(a.spec, b.spec)
  );
}

function compareObjects(a: ConfigObject, b: ConfigObject): number {
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * A ConfigStore. Listeners run synchronously after the store has changed; a
 * listener that throws does not stop the others (the error is rethrown
 * after all have run, so it is not swallowed).
 */
export function createConfigStore(): ConfigStore {
  const objects = new Map<string, ConfigObject>();
  /**
   * key -> the source that last wrote it (undefined: `apply`). A key belongs
   * to its last writer, so `replaceAll` never deletes what another source or
   * an `apply` wrote after it.
   */
  const owner = new Map<string, string | undefined>();
  const listeners = new Set<ConfigListener>();
  let revision = 0;

  function set(object: ConfigObject, events: ConfigEvent[], sourceId?: string): void {
    const key = keyOf(object);
    owner.set(key, sourceId);
    const previous = objects.get(key);
    if (previous && sameContent(previous, object)) {
      objects.set(key, object);
      return;
    }
    objects.set(key, object);
    events.push(previous ? { type: 'update', object, previous } : { type: 'add', object });
  }

  function remove(key: string, events: ConfigEvent[]): void {
    const previous = objects.get(key);
    if (!previous) return;
    objects.delete(key);
    owner.delete(key);
    events.push({ type: 'delete', object: previous });
  }

  function publish(events: ConfigEvent[]): void {
    if (events.length === 0) return;
    revision++;
    const errors: unknown[] = [];
    for (const listener of [...listeners]) {
      try {
        listener(events);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'config store listeners failed');
  }

  return {
    get<K extends Kind>(kind: K, namespace: string, name: string) {
      return objects.get(configKey(kind, namespace, name)) as ConfigObject<K> | undefined;
    },
    list<K extends Kind>(kind: K, namespace?: string) {
      return [...objects.values()]
        .filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace))
        .sort(compareObjects) as ConfigObject<K>[];
    },
    all() {
      return [...objects.values()].sort((a, b) =>
        a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : compareObjects(a, b),
      );
    },
    get revision() {
      return revision;
    },
    apply(object) {
      const events: ConfigEvent[] = [];
      set(object, events);
      publish(events);
    },
    delete(kind, namespace, name) {
      const events: ConfigEvent[] = [];
      remove(configKey(kind, namespace, name), events);
      publish(events);
    },
    replaceAll(sourceId, next) {
      const events: ConfigEvent[] = [];
      const owned = [...owner].filter(([, by]) => by === sourceId).map(([key]) => key);
      const nextKeys = new Set<string>();
      for (const object of next) {
        const key = keyOf(object);
        if (nextKeys.has(key)) continue;
        nextKeys.add(key);
        set(object, events, sourceId);
      }
      for (const key of owned) if (!nextKeys.has(key)) remove(key, events);
      publish(events);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
