/**
 * Istio custom resources read from Kubernetes, validated with @weft/config
 * before use. An invalid object is reported (kind, namespace, name, field
 * path, reason) and skipped; its last good version, if any, stays in use
 * until a valid version or a delete arrives.
 */
import { type ConfigObject, type Problem, validateObject } from '@weft/config';

export interface IstioObjectTracker {
  /** Validates the object the cluster holds now for (kind, namespace, name). */
  upsert(raw: unknown, kind: string): void;
  /** The object is gone from the cluster: forget its last good version and its problems. */
  remove(kind: string, namespace: string, name: string): void;
  /** Last good objects, sorted by kind, namespace, name. */
  objects(): ConfigObject[];
  /** Problems of the current version of every object that has any. */
  problems(): Problem[];
}

interface RawMeta {
  name?: unknown;
  namespace?: unknown;
}

/** `kind/namespace/name` of a raw object, namespace `default` when absent (as validation defaults it). */
export function rawKey(raw: unknown, kind: string): string | undefined {
  const meta = (raw as { metadata?: RawMeta } | null)?.metadata;
  if (typeof meta?.name !== 'string') return undefined;
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
  return `${kind}/${namespace}/${meta.name}`;
}

/** Creates an empty tracker. */
export function createIstioObjectTracker(): IstioObjectTracker {
  const good = new Map<string, ConfigObject>();
  const problemsByKey = new Map<string, Problem[]>();
  return {
    upsert(raw, kind) {
      const key = rawKey(raw, kind);
      const { object, problems } = validateObject(raw);
      if (key === undefined) return;
      if (problems.length > 0) problemsByKey.set(key, problems);
      else problemsByKey.delete(key);
      if (object) good.set(key, object);
    },
    remove(kind, namespace, name) {
      const key = `${kind}/${namespace || 'default'}/${name}`;
      good.delete(key);
      problemsByKey.delete(key);
    },
    objects: () => [...good.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o),
    problems: () =>
      [...problemsByKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).flatMap(([, p]) => p),
  };
}
