/** The in-memory config store. */
import { isDeepStrictEqual } from 'node:util';
import type { ConfigObject, Kind } from '../resources/resource-types.ts';
import type { ConfigEvent, ConfigListener, ConfigStore } from './store-types.ts';

/** `kind/namespace/name`, the store's key. */
export function configKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** Keys of objects seen, so an object handed in again is not re-keyed (nor its key re-hashed). */
const keys = new WeakMap<ConfigObject, string>();

function keyOf(object: ConfigObject): string {
  let key = keys.get(object);
  if (key === undefined) {
    key = configKey(object.kind, object.metadata.namespace, object.metadata.name);
    keys.set(object, key);
  }
  return key;
}

interface Entry {
  object: ConfigObject;
  owner: string | undefined;
  pass: number;
}

/** Same content, wherever it was read from. */
function sameContent(a: ConfigObject, b: ConfigObject): boolean {
  return (
    a.apiVersion === b.apiVersion &&
    isDeepStrictEqual(a.metadata, b.metadata) &&
    isDeepStrictEqual(a.spec, b.spec)
  );
}

/** Objects sorted by kind, then `namespace/name` (each sort key built once). */
function sortObjects(objects: Iterable<ConfigObject>): ConfigObject[] {
  const keyed = [...objects].map((object) => ({
    object,
    kind: object.kind as string,
    id: `${object.metadata.namespace}/${object.metadata.name}`,
  }));
  keyed.sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return keyed.map(({ object }) => object);
}

/**
 * A ConfigStore. Listeners run synchronously after the store has changed; a
 * listener that throws does not stop the others (the error is rethrown
 * after all have run, so it is not swallowed).
 */
export function createConfigStore(): ConfigStore {
  /**
   * key -> the object and the source that last wrote it (undefined:
   * `apply`). A key belongs to its last writer, so `replaceAll` never
   * deletes what another source or an `apply` wrote after it. `pass` marks
   * the `replaceAll` call that last listed it.
   */
  const entries = new Map<string, Entry>();
  /** The keys each source owns, so `replaceAll` looks only at its own. */
  const ownedBy = new Map<string, Set<string>>();
  const listeners = new Set<ConfigListener>();
  let revision = 0;
  let passes = 0;
  /** `all()` in order; dropped whenever an object is written. */
  let sorted: ConfigObject[] | undefined;

  function own(key: string, entry: Entry, sourceId: string | undefined): void {
    if (entry.owner !== undefined) ownedBy.get(entry.owner)?.delete(key);
    entry.owner = sourceId;
    if (sourceId === undefined) return;
    let owned = ownedBy.get(sourceId);
    if (!owned) {
      owned = new Set();
      ownedBy.set(sourceId, owned);
    }
    owned.add(key);
  }

  function set(key: string, object: ConfigObject, events: ConfigEvent[], sourceId?: string, pass = 0): void {
    const entry = entries.get(key);
    if (!entry) {
      const added: Entry = { object, owner: undefined, pass };
      entries.set(key, added);
      own(key, added, sourceId);
      sorted = undefined;
      events.push({ type: 'add', object });
      return;
    }
    entry.pass = pass;
    if (entry.owner !== sourceId) own(key, entry, sourceId);
    // The same object again (a source re-sending what it did not re-read) costs no comparison.
    const previous = entry.object;
    if (previous === object) return;
    entry.object = object;
    sorted = undefined;
    if (sameContent(previous, object)) return;
    events.push({ type: 'update', object, previous });
  }

  function remove(key: string, events: ConfigEvent[]): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    if (entry.owner !== undefined) ownedBy.get(entry.owner)?.delete(key);
    sorted = undefined;
    events.push({ type: 'delete', object: entry.object });
  }

  function all(): ConfigObject[] {
    sorted ??= sortObjects([...entries.values()].map((entry) => entry.object));
    return sorted;
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
      return entries.get(configKey(kind, namespace, name))?.object as ConfigObject<K> | undefined;
    },
    list<K extends Kind>(kind: K, namespace?: string) {
      return all().filter(
        (o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace),
      ) as ConfigObject<K>[];
    },
    all() {
      return all().slice();
    },
    get revision() {
      return revision;
    },
    apply(object) {
      const events: ConfigEvent[] = [];
      set(keyOf(object), object, events);
      publish(events);
    },
    delete(kind, namespace, name) {
      const events: ConfigEvent[] = [];
      remove(configKey(kind, namespace, name), events);
      publish(events);
    },
    replaceAll(sourceId, next) {
      const events: ConfigEvent[] = [];
      const pass = ++passes;
      const owned = [...(ownedBy.get(sourceId) ?? [])];
      for (const object of next) {
        const key = keyOf(object);
        const entry = entries.get(key);
        // Within `next` the first object of a key wins.
        if (entry?.pass === pass) continue;
        set(key, object, events, sourceId, pass);
      }
      for (const key of owned) if (entries.get(key)?.pass !== pass) remove(key, events);
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
