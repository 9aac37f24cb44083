/**
 * What a SotW response for one subscription carries: the resources, their
 * set version, and the encoded `resources` field of DiscoveryResponse.
 *
 * Views are memoised per (snapshot, type, subscription) and shared by
 * content across snapshots, so the streams of every proxy that sees the same
 * resources of a type share one view: its resources field is encoded once,
 * whatever the number of streams and however their other types differ.
 */
import { resourceMapParts } from '../cache/resource-list.ts';
import { resourceSetVersion, type Snapshot } from '../cache/snapshot.ts';
import { encodeResource, type Resource } from '../resources/resource.ts';
import type { TypeUrl } from '../type-urls.ts';
import { sotwResourceEntry } from '../wire/ads-wire.ts';
import type { Subscription } from './subscription.ts';

export interface SotwView {
  readonly resources: ReadonlyMap<string, Resource>;
  /** Hash of names and resource versions; equals `snapshot.version(type)` for a wildcard view. */
  readonly version: string;
  /**
   * `repeated google.protobuf.Any resources = 2` of DiscoveryResponse,
   * encoded, as chunks: one per part of a composed set (a sidecar's shared
   * outbound clusters, then its own inbound ones), each chunk shared by every
   * view holding that part.
   */
  readonly encodedResources: readonly Uint8Array[];
}

const memo = new WeakMap<Snapshot, Map<string, SotwView>>();

/**
 * Views by content (type and set version), across snapshots: proxies whose
 * snapshots differ elsewhere (each sidecar's own inbound clusters) still
 * share one encoded EDS or RDS response. Held weakly: a view lives while a
 * snapshot's memo holds it.
 */
const byContent = new Map<string, WeakRef<SotwView>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (byContent.get(key)?.deref() === undefined) byContent.delete(key);
});

/** The encoded `resources` field of a DiscoveryResponse carrying `resources`, as one chunk per resource. */
export function encodeResourceList(typeUrl: TypeUrl, resources: Iterable<Resource>): Uint8Array[] {
  return [...resources].map((r) => sotwResourceEntry(typeUrl, encodeResource(r)));
}

/** Encoded `resources` field per map object a snapshot serves (one part of a type's set). */
const encodedParts = new WeakMap<ReadonlyMap<string, Resource>, Uint8Array>();

/** The encoded `resources` field of `resources` as chunks: one per part, each encoded once per part object. */
function encodeResourceMap(typeUrl: TypeUrl, resources: ReadonlyMap<string, Resource>): Uint8Array[] {
  return resourceMapParts(resources).flatMap((part) => {
    if (part.size === 0) return [];
    let bytes = encodedParts.get(part);
    if (bytes === undefined) {
      bytes = Buffer.concat(encodeResourceList(typeUrl, part.values()));
      encodedParts.set(part, bytes);
    }
    return [bytes];
  });
}

/** A view of arbitrary resources, shared with any live view of the same content. */
export function createView(
  typeUrl: TypeUrl,
  resources: ReadonlyMap<string, Resource>,
  version = resourceSetVersion(resources),
): SotwView {
  const key = `${typeUrl}\0${version}`;
  const shared = byContent.get(key)?.deref();
  if (shared) return shared;
  const view = { resources, version, encodedResources: encodeResourceMap(typeUrl, resources) };
  byContent.set(key, new WeakRef(view));
  forget.register(view, key);
  return view;
}

/** The view of `snapshot` a subscription selects: all (wildcard) or the named subset that exists. */
export function snapshotView(snapshot: Snapshot, typeUrl: TypeUrl, subscription: Subscription): SotwView {
  const key = subscription.wildcard
    ? `${typeUrl}\0*`
    : `${typeUrl}\0${[...subscription.names].sort().join('\0')}`;
  let views = memo.get(snapshot);
  if (!views) {
    views = new Map();
    memo.set(snapshot, views);
  }
  const cached = views.get(key);
  if (cached) return cached;
  const all = snapshot.resources(typeUrl);
  let resources: ReadonlyMap<string, Resource> = all;
  const coversAll =
    subscription.names.size >= all.size && [...all.keys()].every((n) => subscription.names.has(n));
  if (!subscription.wildcard && !coversAll) {
    const subset = new Map<string, Resource>();
    for (const name of subscription.names) {
      const resource = all.get(name);
      if (resource) subset.set(name, resource);
    }
    resources = subset;
  }
  // A subscription naming everything the snapshot has (Envoy's EDS) selects the whole set: its version is known.
  const view =
    resources === all ? createView(typeUrl, all, snapshot.version(typeUrl)) : createView(typeUrl, resources);
  views.set(key, view);
  return view;
}
