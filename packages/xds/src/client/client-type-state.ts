/**
 * The client's state for one subscribed type: what it asked for, the last
 * good resources and versions, and the latest nonce of the current stream.
 */
import { decodeResource, type Resource, resourceFromBody } from '../resources/resource.ts';
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
}

export function newTypeState(): ClientTypeState {
  return {
    wildcard: false,
    names: new Set(),
    resources: new Map(),
    resourceVersions: new Map(),
    version: '',
    nonce: '',
  };
}

/** Decodes the Any-wrapped resources of a response; bad entries become problems, never exceptions. */
export function decodeWireResources(
  typeUrl: TypeUrl,
  entries: readonly { any: WireAny | undefined; name?: string }[],
): { resources: Resource[]; problems: string[] } {
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
      const resource = resourceFromBody(typeUrl, decodeResource(typeUrl, any.value ?? new Uint8Array()));
      if (resource.name === '') problems.push(`resource ${label}: has no name`);
      else if (name && name !== resource.name)
        problems.push(`resource ${label}: body is named ${resource.name}`);
      else resources.push(resource);
    } catch (error) {
      problems.push(`resource ${label}: cannot decode: ${(error as Error).message}`);
    }
  });
  return { resources, problems };
}

/** Whether the subscription covers a name. */
export function wants(state: ClientTypeState, name: string): boolean {
  return state.wildcard || state.names.has(name);
}
