/**
 * Keeps Resource objects alive across pushes: a generated resource whose
 * type, name and body equal one from the previous push is replaced by that
 * earlier object. @weft/xds memoises encoded bytes and content hashes per
 * Resource object, so an unchanged resource is then neither validated nor
 * encoded again; on a large mesh that is most of a push's time.
 *
 * Equality is JSON text of the body: translation is deterministic (same
 * input, same key order), and a false "different" only costs an encode.
 */
import { composeResourceList, type Resource, resourceListParts, type TypeUrl } from '@weft/xds';

export interface ResourceInterner {
  /** Returns the resources with earlier equal objects substituted. */
  intern(
    resources: Partial<Record<TypeUrl, readonly Resource[]>>,
  ): Partial<Record<TypeUrl, readonly Resource[]>>;
  /**
   * Ends a push: only resources interned since the previous call are kept for
   * the next push, so memory follows the live config.
   */
  endPush(): void;
}

export function createResourceInterner(): ResourceInterner {
  let previous = new Map<string, Resource>();
  let current = new Map<string, Resource>();
  /**
   * Per generated object, what it was interned to: a Resource object that
   * translation shares between proxies is keyed (stringified) once. Weak, so
   * it lives as long as translation keeps the generated object.
   */
  const seen = new WeakMap<Resource, Resource>();
  const one = (resource: Resource): Resource => {
    const known = seen.get(resource);
    if (known !== undefined) return known;
    const key = `${resource.typeUrl}\0${resource.name}\0${JSON.stringify(resource.body)}`;
    const kept = current.get(key) ?? previous.get(key) ?? resource;
    current.set(key, kept);
    seen.set(resource, kept);
    return kept;
  };
  /**
   * Per generated list, its interned list: a list shared by many proxies
   * stays one list object (snapshots index it once). A composed list (shared
   * part + own part) is interned part by part and composed again, so its
   * shared part stays one object too.
   */
  const lists = new WeakMap<readonly Resource[], readonly Resource[]>();
  const list = (resources: readonly Resource[]): readonly Resource[] => {
    let interned = lists.get(resources);
    if (interned === undefined) {
      const parts = resourceListParts(resources);
      interned = parts.length > 1 ? composeResourceList(parts.map(list)) : resources.map(one);
      lists.set(resources, interned);
    }
    return interned;
  };
  return {
    intern: (resources) => {
      const out: Partial<Record<TypeUrl, readonly Resource[]>> = {};
      for (const [typeUrl, generated] of Object.entries(resources) as [TypeUrl, readonly Resource[]][]) {
        out[typeUrl] = list(generated);
      }
      return out;
    },
    endPush: () => {
      previous = current;
      current = new Map();
    },
  };
}
