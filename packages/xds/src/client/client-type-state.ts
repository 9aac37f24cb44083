/**
 * The client's state for one subscribed type: what it asked for, the last
 * good resources and versions, and the latest nonce of the current stream.
 */
import { decodeResource, hashBytes, type Resource, resourceFromBody } from '../resources/resource.ts';
import type { TypeUrl } from '../type-urls.ts';
import type { WireAny } from '../wire/ads-wire.ts';

export interface ClientTypeState {
  wildcard: boolean;
  names: Set<string>;
  resources: Map<string, Resource>;
  /** Delta: per-resource versions of what was applied. */
  resourceVersions: Map<string, string>;
  /** Last accepted version of the type (`''` before any). */
  version: string;
  /** Latest nonce received on the current stream (`''` on a new stream). */
  nonce: string;
  /** Applied resources by hash of their bytes, so unchanged bytes are not decoded again. */
  byDigest: Map<string, Resource>;
}

export function newTypeState(): ClientTypeState {
  return {
    wildcard: false,
    names: new Set(),
    resources: new Map(),
    resourceVersions: new Map(),
    version: '',
    nonce: '',
    byDigest: new Map(),
  };
}

/**
 * Decodes the Any-wrapped resources of a response; bad entries become
 * problems, never exceptions. Bytes equal to an applied resource's (found by
 * digest in `known`) yield that same Resource object, undecoded, so callers
 * can tell unchanged resources by identity. `shared` (the client option
 * `decodeCache`) is looked up next and filled with what was decoded.
 */
export function decodeWireResources(
  typeUrl: TypeUrl,
  entries: readonly { any: WireAny | undefined; name?: string }[],
  known: ReadonlyMap<string, Resource> = new Map(),
  shared?: Map<string, Resource>,
): { resources: Resource[]; problems: string[]; digests: Map<Resource, string> } {
  const digests = new Map<Resource, string>();
  const resources: Resource[] = [];
  const problems: string[] = [];
  entries.forEach(({ any, name }, index) => {
    const label = name ? JSON.stringify(name) : `#${index}`;
    if (!any) {
      problems.push(`resource ${label}: no resource body`);
      return;
    }
    if (any.type_url !== typeUrl) {
      problems.push(`resource ${label}: type ${any.type_url} in a ${typeUrl} response`);
      return;
    }
    try {
      const bytes = any.value ?? new Uint8Array();
      const digest = hashBytes(bytes);
      let resource = known.get(digest) ?? shared?.get(digest);
      if (resource === undefined) {
        resource = resourceFromBody(typeUrl, decodeResource(typeUrl, bytes));
        shared?.set(digest, resource);
      }
      if (resource.name === '') problems.push(`resource ${label}: has no name`);
      else if (name && name !== resource.name)
        problems.push(`resource ${label}: body is named ${resource.name}`);
      else {
        resources.push(resource);
        digests.set(resource, digest);
      }
    } catch (error) {
      problems.push(`resource ${label}: cannot decode: ${(error as Error).message}`);
    }
  });
  return { resources, problems, digests };
}

/** Whether the subscription covers a name. */
export function wants(state: ClientTypeState, name: string): boolean {
  return state.wildcard || state.names.has(name);
}

/** Rebuilds `byDigest` for the applied resources, keeping digests of those still applied. */
export function indexApplied(state: ClientTypeState, fresh: ReadonlyMap<Resource, string>): void {
  const byDigest = new Map<string, Resource>();
  const previous = new Map([...state.byDigest].map(([digest, resource]) => [resource, digest]));
  for (const resource of state.resources.values()) {
    const digest = fresh.get(resource) ?? previous.get(resource);
    if (digest) byDigest.set(digest, resource);
  }
  state.byDigest = byDigest;
}
