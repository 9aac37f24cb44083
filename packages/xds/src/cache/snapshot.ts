/**
 * An immutable, versioned set of resources for one proxy view, per type.
 *
 * Versions are content hashes: a type's version changes exactly when the
 * encoded bytes of its set change, so two views with the same resources get
 * the same version and rebuilding an unchanged snapshot pushes nothing.
 */

import { type ResourceReference, resourceType } from '../resource-types/index.ts';
import { type Resource, resourceVersion } from '../resources/resource.ts';
import { PUSH_ORDER, type TypeUrl } from '../type-urls.ts';

import {
  addSetDigest,
  formatSetVersion,
  ResourceMapUnion,
  resourceListParts,
  resourceMapParts,
  type SetDigest,
  setDigestOf,
} from './resource-list.ts';

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
   * its RouteConfiguration, every SDS reference its Secret (unless
   * `options.provided` names it). Empty when consistent. Messages name both
   * resources.
   */
  consistencyCheck(options?: ConsistencyOptions): string[];
}

export interface ConsistencyOptions {
  /**
   * Names a proxy gets from elsewhere, per type, so references to them are
   * not problems: Istio's sidecars resolve the SDS secrets `default` and
   * `ROOTCA` from their own agent, never over xDS. Pass the same object each
   * time: results of shared parts are reused while it is the same.
   */
  provided?: Partial<Record<TypeUrl, ReadonlySet<string>>>;
}

/**
 * Per list object: its index and set digest. Snapshots of many proxies that
 * share one list (the same EDS list for every sidecar of a namespace, the
 * shared outbound part of every sidecar's CDS list) index and hash it once.
 * Lists are treated as immutable, as Resources are.
 */
const indexedLists = new WeakMap<
  readonly Resource[],
  { typeUrl: TypeUrl; byName: ReadonlyMap<string, Resource>; digest: SetDigest }
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

/**
 * Version of a set of resources: a composable content hash of the names and
 * their resource versions (see `resource-list.ts`); `''` when empty. Equal
 * sets get equal versions whatever their order or split into parts.
 */
export function resourceSetVersion(resources: ReadonlyMap<string, Resource>): string {
  return formatSetVersion(setDigestOf(resources.values()), resources.size);
}

const EMPTY_INDEX: { byName: ReadonlyMap<string, Resource>; digest: SetDigest } = {
  byName: new Map(),
  digest: new Uint32Array(4),
};

/** Indexes one plain list of `typeUrl`; memoised per list object. Throws SnapshotError. */
function indexList(
  typeUrl: TypeUrl,
  list: readonly Resource[],
): { byName: ReadonlyMap<string, Resource>; digest: SetDigest } {
  // Every empty list is the same empty set: one map object, so results kept against it (partProblems) are reused.
  if (list.length === 0) return EMPTY_INDEX;
  const known = indexedLists.get(list);
  if (known !== undefined && known.typeUrl === typeUrl) return known;
  const byName = new Map<string, Resource>();
  for (const resource of list) {
    if (resource.typeUrl !== typeUrl) {
      throw new SnapshotError(
        `resource ${JSON.stringify(resource.name)} of ${resource.typeUrl} listed under ${typeUrl}`,
      );
    }
    if (byName.has(resource.name)) throw duplicate(typeUrl, resource.name);
    byName.set(resource.name, resource);
  }
  const indexed = { typeUrl, byName, digest: setDigestOf(list) };
  if (list.length > 0) indexedLists.set(list, indexed);
  return indexed;
}

function duplicate(typeUrl: TypeUrl, name: string): SnapshotError {
  return new SnapshotError(`duplicate ${resourceType(typeUrl).shortName} resource ${JSON.stringify(name)}`);
}

/**
 * Indexes a list that may be composed of parts (`composeResourceList`): each
 * part is indexed once per part object, names are checked across parts, and
 * the whole is served as a union of the parts' maps.
 */
function indexComposed(
  typeUrl: TypeUrl,
  list: readonly Resource[],
): { byName: ReadonlyMap<string, Resource>; version: string } {
  const parts = resourceListParts(list);
  if (parts.length === 1) {
    const { byName, digest } = indexList(typeUrl, list);
    return { byName, version: formatSetVersion(digest, byName.size) };
  }
  const indexed = parts.map((part) => indexList(typeUrl, part));
  const sum = new Uint32Array(indexed[0]?.digest ?? []);
  for (let i = 1; i < indexed.length; i++) {
    const part = indexed[i] as (typeof indexed)[number];
    for (const name of part.byName.keys()) {
      for (let j = 0; j < i; j++) if (indexed[j]?.byName.has(name)) throw duplicate(typeUrl, name);
    }
    addSetDigest(sum, part.digest);
  }
  const byName = new ResourceMapUnion(indexed.map((part) => part.byName));
  return { byName, version: formatSetVersion(sum, byName.size) };
}

/** A snapshot problem raised at creation: duplicate names or a resource under the wrong type. */
export class SnapshotError extends Error {
  readonly code = 'INVALID_SNAPSHOT';
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** One part's references, and its problems against the target maps it was last checked with. */
interface PartReferences {
  readonly refs: readonly { readonly from: string; readonly ref: ResourceReference }[];
  /** The types its references point at: its problems depend on these maps only. */
  readonly targetTypes: readonly TypeUrl[];
  last?: {
    targets: readonly (ReadonlyMap<string, Resource> | undefined)[];
    provided: ConsistencyOptions['provided'];
    problems: readonly string[];
  };
}

const partReferences = new WeakMap<ReadonlyMap<string, Resource>, PartReferences>();

/**
 * The consistency problems of one part of a type's set. A part shared by many
 * snapshots (a sidecar's outbound clusters) refers to maps they share too
 * (its namespace's EDS list), so its result is kept with the target maps'
 * identities and reused while they are the same objects.
 */
function partProblems(
  typeUrl: TypeUrl,
  part: ReadonlyMap<string, Resource>,
  byType: ReadonlyMap<TypeUrl, ReadonlyMap<string, Resource>>,
  provided: ConsistencyOptions['provided'],
): readonly string[] {
  let known = partReferences.get(part);
  if (known === undefined) {
    const refs: { from: string; ref: ResourceReference }[] = [];
    for (const resource of part.values())
      for (const ref of referencesOf(resource)) refs.push({ from: resource.name, ref });
    known = { refs, targetTypes: [...new Set(refs.map(({ ref }) => ref.typeUrl))] };
    partReferences.set(part, known);
  }
  const targets = known.targetTypes.map((target) => byType.get(target));
  const last = known.last;
  if (
    last !== undefined &&
    last.provided === provided &&
    last.targets.every((map, i) => map === targets[i])
  ) {
    return last.problems;
  }
  const type = resourceType(typeUrl);
  const problems: string[] = [];
  for (const { from, ref } of known.refs) {
    if (byType.get(ref.typeUrl)?.has(ref.name) || provided?.[ref.typeUrl]?.has(ref.name)) continue;
    const wanted = resourceType(ref.typeUrl).shortName;
    problems.push(
      `${type.shortName} ${JSON.stringify(from)} refers to ${wanted} ${JSON.stringify(ref.name)}, which is missing`,
    );
  }
  known.last = { targets, provided, problems };
  return problems;
}

/**
 * Creates a snapshot. Encodes every resource once (memoised per Resource
 * object) to compute versions; a list object given before (lists are treated
 * as immutable) is not indexed or hashed again. Throws InvalidResourceError for a body that
 * does not fit its proto and SnapshotError for duplicate names or a resource
 * listed under another type, so a bad snapshot is never published.
 */
export function createSnapshot(resources: Partial<Record<TypeUrl, readonly Resource[]>>): Snapshot {
  const byType = new Map<TypeUrl, ReadonlyMap<string, Resource>>();
  const typeVersions = new Map<TypeUrl, string>();
  for (const typeUrl of PUSH_ORDER) {
    const { byName, version } = indexComposed(typeUrl, resources[typeUrl] ?? []);
    byType.set(typeUrl, byName);
    typeVersions.set(typeUrl, version);
  }
  const empty: ReadonlyMap<string, Resource> = new Map();
  return {
    resources: (typeUrl) => byType.get(typeUrl) ?? empty,
    version: (typeUrl) => typeVersions.get(typeUrl) ?? '',
    resourceVersion(typeUrl, name) {
      const resource = byType.get(typeUrl)?.get(name);
      return resource ? resourceVersion(resource) : undefined;
    },
    consistencyCheck(options = {}) {
      const problems: string[] = [];
      for (const [typeUrl, byName] of byType) {
        for (const part of resourceMapParts(byName)) {
          problems.push(...partProblems(typeUrl, part, byType, options.provided));
        }
      }
      return problems;
    },
  };
}
