/**
 * Resource lists made of parts, and set versions that compose.
 *
 * A sidecar's CDS and LDS lists are a part shared by every sidecar of its
 * namespace (outbound) plus a small part of its own (inbound). A list
 * composed with `composeResourceList` remembers its parts, so a snapshot
 * indexes and hashes each shared part once, however many snapshots hold it,
 * and a SotW response is framed from each part's pre-encoded bytes.
 *
 * A set's version is the lane-wise sum (four 32-bit lanes, each mod 2^32) of
 * a 128-bit digest of every member's name and resource version: it does not
 * depend on order or on how the set is split into parts, and the version of
 * a union of disjoint parts is computed from the parts' sums alone.
 */
import { hash } from 'node:crypto';
import type { Resource } from '../resources/resource.ts';
import { resourceVersion } from '../resources/resource.ts';

/** Four 32-bit lanes; the sum of member digests lane by lane. */
export type SetDigest = Uint32Array;

const DIGEST_LANES = 4;

const partsOfList = new WeakMap<readonly Resource[], readonly (readonly Resource[])[]>();
const memberDigests = new WeakMap<Resource, SetDigest>();

/**
 * A list that is the concatenation of `parts` (in order) and remembers them.
 * Parts are treated as immutable, as lists given to `createSnapshot` are;
 * empty parts are dropped. Names must not repeat across parts (the snapshot
 * rejects duplicates as for any list).
 */
export function composeResourceList(parts: readonly (readonly Resource[])[]): readonly Resource[] {
  const kept = parts.filter((part) => part.length > 0);
  const list = Object.freeze(kept.flat());
  if (kept.length > 1) partsOfList.set(list, kept);
  return list;
}

/** The parts a list was composed of; a plain list is its own single part. */
export function resourceListParts(list: readonly Resource[]): readonly (readonly Resource[])[] {
  return partsOfList.get(list) ?? [list];
}

/** The digest of one member: SHA-256 of its name and resource version, first 16 bytes. Memoised per Resource. */
function memberDigest(resource: Resource): SetDigest {
  let digest = memberDigests.get(resource);
  if (digest === undefined) {
    const bytes = hash('sha256', `${resource.name}\0${resourceVersion(resource)}`, 'buffer');
    digest = new Uint32Array(DIGEST_LANES);
    for (let lane = 0; lane < DIGEST_LANES; lane++) digest[lane] = bytes.readUInt32LE(lane * 4);
    memberDigests.set(resource, digest);
  }
  return digest;
}

/** Adds `digest` into `sum`, lane by lane (Uint32Array arithmetic wraps mod 2^32). */
export function addSetDigest(sum: SetDigest, digest: SetDigest): void {
  for (let lane = 0; lane < DIGEST_LANES; lane++)
    sum[lane] = (sum[lane] as number) + (digest[lane] as number);
}

/** The digest of a set of resources (names must be distinct). */
export function setDigestOf(resources: Iterable<Resource>): SetDigest {
  const sum = new Uint32Array(DIGEST_LANES);
  for (const resource of resources) addSetDigest(sum, memberDigest(resource));
  return sum;
}

/** The version string of a set: `''` for an empty set, else base64url of its digest (22 characters). */
export function formatSetVersion(digest: SetDigest, size: number): string {
  if (size === 0) return '';
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('base64url');
}

/**
 * A read-only map over disjoint maps, in order: what a snapshot serves for a
 * composed list, without copying the shared part per snapshot.
 */
export class ResourceMapUnion implements ReadonlyMap<string, Resource> {
  readonly parts: readonly ReadonlyMap<string, Resource>[];
  readonly size: number;

  constructor(parts: readonly ReadonlyMap<string, Resource>[]) {
    this.parts = parts;
    this.size = parts.reduce((n, part) => n + part.size, 0);
  }

  get(name: string): Resource | undefined {
    for (const part of this.parts) {
      const resource = part.get(name);
      if (resource !== undefined) return resource;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.parts.some((part) => part.has(name));
  }

  forEach(callback: (value: Resource, key: string, map: ReadonlyMap<string, Resource>) => void): void {
    for (const part of this.parts) for (const [name, resource] of part) callback(resource, name, this);
  }

  entries(): MapIterator<[string, Resource]> {
    return chain(this.parts.map((part) => part.entries()));
  }

  keys(): MapIterator<string> {
    return chain(this.parts.map((part) => part.keys()));
  }

  values(): MapIterator<Resource> {
    return chain(this.parts.map((part) => part.values()));
  }

  [Symbol.iterator](): MapIterator<[string, Resource]> {
    return this.entries();
  }
}

function* chain<T>(iterators: readonly Iterable<T>[]): Generator<T, undefined, unknown> {
  for (const iterator of iterators) yield* iterator;
  return undefined;
}

/** The parts of a map a snapshot serves: a union's parts, or the map itself. */
export function resourceMapParts(
  map: ReadonlyMap<string, Resource>,
): readonly ReadonlyMap<string, Resource>[] {
  return map instanceof ResourceMapUnion ? map.parts : [map];
}
