/**
 * An immutable, versioned set of resources for one proxy view, per type.
 *
 * Versions are content hashes: a type's version changes exactly when the
 * encoded bytes of its set change, so two views with the same resources get
 * the same version and rebuilding an unchanged snapshot pushes nothing.
 */

import { type ResourceReference, resourceType } from '../resource-types/index.ts';
import { hashBytes, type Resource, resourceVersion } from '../resources/resource.ts';
import { PUSH_ORDER, type TypeUrl } from '../type-urls.ts';

export interface Snapshot {
  /** Resources of one type by name (empty map for a type not given). */
  resources(typeUrl: TypeUrl): ReadonlyMap<string, Resource>;
  /** Hash of the type's set (names and resource versions); `''` for an empty set. */
  version(typeUrl: TypeUrl): string;
  /** Content hash of one resource's encoded bytes; undefined when absent. */
  resourceVersion(typeUrl: TypeUrl, name: string): string | undefined;
  /**
   * Problems that would leave a proxy warming forever or routing to nothing:
   * every EDS cluster has its ClusterLoadAssignment, every listener using RDS
   * its RouteConfiguration, every SDS reference its Secret. Empty when
   * consistent. Messages name both resources.
   */
  consistencyCheck(): string[];
}

/**
 * Per list object: its index and set version. Snapshots of many proxies that
 * share one list (the same EDS list for every sidecar of a namespace) index
 * and hash it once. Lists are treated as immutable, as Resources are.
 */
const indexedLists = new WeakMap<
  readonly Resource[],
  { typeUrl: TypeUrl; byName: Map<string, Resource>; version: string }
>();

/** References per Resource object: resources shared between snapshots are walked once. */
const referenceMemo = new WeakMap<Resource, readonly ResourceReference[]>();

function referencesOf(resource: Resource): readonly ResourceReference[] {
  let refs = referenceMemo.get(resource);
  if (refs === undefined) {
    refs = resourceType(resource.typeUrl).references(resource.body);
    referenceMemo.set(resource, refs);
  }
  return refs;
}

/** Version of a set of resources: hash of the sorted names and their resource versions; `''` when empty. */
export function resourceSetVersion(resources: ReadonlyMap<string, Resource>): string {
  if (resources.size === 0) return '';
  const names = [...resources.keys()].sort();
  return hashBytes(
    ...names.flatMap((name) => [name, '\0', resourceVersion(resources.get(name) as Resource), '\0']),
  );
}

/** A snapshot problem raised at creation: duplicate names or a resource under the wrong type. */
export class SnapshotError extends Error {
  readonly code = 'INVALID_SNAPSHOT';
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/**
 * Creates a snapshot. Encodes every resource once (memoised per Resource
 * object) to compute versions; a list object given before (lists are treated
 * as immutable) is not indexed or hashed again. Throws InvalidResourceError for a body that
 * does not fit its proto and SnapshotError for duplicate names or a resource
 * listed under another type, so a bad snapshot is never published.
 */
export function createSnapshot(resources: Partial<Record<TypeUrl, readonly Resource[]>>): Snapshot {
  const byType = new Map<TypeUrl, Map<string, Resource>>();
  const typeVersions = new Map<TypeUrl, string>();
  for (const typeUrl of PUSH_ORDER) {
    const list = resources[typeUrl] ?? [];
    const known = indexedLists.get(list);
    if (known !== undefined && known.typeUrl === typeUrl) {
      byType.set(typeUrl, known.byName);
      typeVersions.set(typeUrl, known.version);
      continue;
    }
    const byName = new Map<string, Resource>();
    for (const resource of list) {
      if (resource.typeUrl !== typeUrl) {
        throw new SnapshotError(
          `resource ${JSON.stringify(resource.name)} of ${resource.typeUrl} listed under ${typeUrl}`,
        );
      }
      if (byName.has(resource.name)) {
        throw new SnapshotError(
          `duplicate ${resourceType(typeUrl).shortName} resource ${JSON.stringify(resource.name)}`,
        );
      }
      byName.set(resource.name, resource);
    }
    const version = resourceSetVersion(byName);
    byType.set(typeUrl, byName);
    typeVersions.set(typeUrl, version);
    if (list.length > 0) indexedLists.set(list, { typeUrl, byName, version });
  }
  const empty: ReadonlyMap<string, Resource> = new Map();
  return {
    resources: (typeUrl) => byType.get(typeUrl) ?? empty,
    version: (typeUrl) => typeVersions.get(typeUrl) ?? '',
    resourceVersion(typeUrl, name) {
      const resource = byType.get(typeUrl)?.get(name);
      return resource ? resourceVersion(resource) : undefined;
    },
    consistencyCheck() {
      const problems: string[] = [];
      for (const [typeUrl, byName] of byType) {
        const type = resourceType(typeUrl);
        for (const resource of byName.values()) {
          for (const ref of referencesOf(resource)) {
            if (byType.get(ref.typeUrl)?.has(ref.name)) continue;
            const wanted = resourceType(ref.typeUrl).shortName;
            problems.push(
              `${type.shortName} ${JSON.stringify(resource.name)} refers to ${wanted} ${JSON.stringify(ref.name)}, which is missing`,
            );
          }
        }
      }
      return problems;
    },
  };
}
