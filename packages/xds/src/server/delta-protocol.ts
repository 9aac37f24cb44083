/**
 * Incremental ADS (DeltaAggregatedResources), one instance per stream.
 *
 * Implements Envoy's "xDS REST and gRPC protocol" doc, section "Incremental
 * xDS":
 * - per-resource versions: the server tracks what the client has
 *   (`initial_resource_versions` on a new stream, then what was sent) and
 *   sends only resources whose version differs: a reconnect resumes without
 *   resending what the client already runs;
 * - `resource_names_subscribe` / `resource_names_unsubscribe`, with `*` for
 *   wildcard; a type whose first request subscribes nothing is wildcard;
 * - `removed_resources` for resources the client has that are gone, and once
 *   for explicitly subscribed names that do not exist;
 * - ACK/NACK by `response_nonce` + `error_detail`; a NACKed resource is not
 *   resent until it changes; requests with unknown nonces still update the
 *   subscription but carry no ACK/NACK;
 * - PUSH_ORDER across types; CDS removals go out after LDS/RDS
 *   (make-before-break).
 */
import type { Snapshot } from '../cache/snapshot.ts';
import { resourceType } from '../resource-types/index.ts';
import { encodeResource, type Resource, resourceVersion } from '../resources/resource.ts';
import { CLUSTER_TYPE_URL, PUSH_ORDER, type TypeUrl } from '../type-urls.ts';
import {
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  encodeDeltaResourcesField,
} from '../wire/ads-wire.ts';
import { responseBytes, type StreamContext, type StreamProtocol } from './stream-session.ts';
import { isNack } from './subscription.ts';

interface DeltaTypeState {
  wildcard: boolean;
  names: Set<string>;
  /** What the client has: name -> version. */
  client: Map<string, string>;
  /** Subscribed names already reported as absent. */
  toldAbsent: Set<string>;
  /** Nonces sent and not yet answered -> system version of that response. */
  inFlight: Map<string, string>;
  answered: boolean;
}

interface DeltaChange {
  typeUrl: TypeUrl;
  state: DeltaTypeState;
  resources: Resource[];
  removed: string[];
}

/** Each resource's encoded DeltaDiscoveryResponse entry, shared by every stream that sends it. */
const encodedEntries = new WeakMap<Resource, Uint8Array>();

function encodedEntry(resource: Resource): Uint8Array {
  let bytes = encodedEntries.get(resource);
  if (!bytes) {
    const any = { type_url: resource.typeUrl, value: encodeResource(resource) };
    bytes = encodeDeltaResourcesField([
      { name: resource.name, version: resourceVersion(resource), resource: any },
    ]);
    encodedEntries.set(resource, bytes);
  }
  return bytes;
}

export function createDeltaProtocol(
  context: StreamContext<DeltaDiscoveryResponse>,
): StreamProtocol<DeltaDiscoveryRequest> {
  const types = new Map<TypeUrl, DeltaTypeState>();

  const inScope = (state: DeltaTypeState, name: string): boolean => state.wildcard || state.names.has(name);

  const diff = (typeUrl: TypeUrl, state: DeltaTypeState, snapshot: Snapshot): DeltaChange => {
    const all = snapshot.resources(typeUrl);
    const resources: Resource[] = [];
    const removed: string[] = [];
    const candidates = state.wildcard ? all.keys() : state.names.values();
    for (const name of candidates) {
      const resource = all.get(name);
      if (!resource) continue;
      if (state.client.get(name) === resourceVersion(resource)) continue;
      resources.push(resource);
    }
    for (const name of state.client.keys()) {
      if (!all.has(name) && inScope(state, name)) removed.push(name);
    }
    for (const name of state.names) {
      if (!all.has(name) && !state.client.has(name) && !state.toldAbsent.has(name)) removed.push(name);
    }
    return { typeUrl, state, resources, removed };
  };

  const send = (change: DeltaChange, snapshot: Snapshot): void => {
    const { typeUrl, state, resources, removed } = change;
    const version = snapshot.version(typeUrl);
    const nonce = context.recordSent(typeUrl, version, resources.length, removed.length);
    for (const r of resources) {
      state.client.set(r.name, resourceVersion(r));
      state.toldAbsent.delete(r.name);
    }
    for (const name of removed) {
      state.client.delete(name);
      if (state.names.has(name)) state.toldAbsent.add(name);
    }
    state.inFlight.set(nonce, version);
    state.answered = true;
    const encodedResources = resources.map(encodedEntry);
    context.write(
      {
        systemVersionInfo: version,
        typeUrl,
        nonce,
        resources: [],
        encodedResources,
        removedResources: removed,
        controlPlane: { identifier: context.controlPlaneId },
      },
      responseBytes(encodedResources) + removed.reduce((n, name) => n + name.length + 4, 0),
    );
    context.logger?.debug('sent', {
      type: resourceType(typeUrl).shortName,
      version,
      nonce,
      count: resources.length,
      removed: removed.length,
    });
  };

  /** Sends, in PUSH_ORDER, the changes of `typeUrls` (an empty answer too for types never answered). */
  const push = (snapshot: Snapshot, typeUrls: readonly TypeUrl[]): void => {
    const changes: DeltaChange[] = [];
    for (const typeUrl of PUSH_ORDER) {
      const state = types.get(typeUrl);
      if (!state || !typeUrls.includes(typeUrl)) continue;
      const change = diff(typeUrl, state, snapshot);
      if (change.resources.length > 0 || change.removed.length > 0 || !state.answered) changes.push(change);
    }
    // Make-before-break: cluster removals wait until listeners and routes changed.
    const cds = changes.find((c) => c.typeUrl === CLUSTER_TYPE_URL);
    const deferred = cds && changes.length > 1 && cds.removed.length > 0 ? cds.removed : [];
    for (const change of changes) {
      if (change === cds && deferred.length > 0) {
        if (change.resources.length > 0) send({ ...change, removed: [] }, snapshot);
      } else {
        send(change, snapshot);
      }
    }
    if (cds && deferred.length > 0) send({ ...cds, resources: [], removed: deferred }, snapshot);
  };

  return {
    onRequest(request: DeltaDiscoveryRequest, typeUrl: TypeUrl) {
      const nonce = request.responseNonce ?? '';
      let state = types.get(typeUrl);
      if (nonce !== '') {
        const version = state?.inFlight.get(nonce);
        if (state && version !== undefined) {
          // Responses are answered in order; earlier nonces are superseded.
          for (const sent of [...state.inFlight.keys()]) {
            state.inFlight.delete(sent);
            if (sent === nonce) break;
          }
          if (isNack(request.errorDetail)) context.nack(typeUrl, version, nonce, request.errorDetail ?? {});
          else context.ack(typeUrl, version, nonce);
        } else {
          context.logger?.debug('ignoring unknown nonce', { typeUrl, nonce });
        }
      }
      const subscribe = request.resourceNamesSubscribe ?? [];
      const unsubscribe = request.resourceNamesUnsubscribe ?? [];
      if (!state) {
        state = {
          wildcard: subscribe.length === 0,
          names: new Set(),
          client: new Map(Object.entries(request.initialResourceVersions ?? {})),
          toldAbsent: new Set(),
          inFlight: new Map(),
          answered: false,
        };
        types.set(typeUrl, state);
      }
      for (const name of subscribe) {
        if (name === '*') state.wildcard = true;
        else state.names.add(name);
      }
      for (const name of unsubscribe) {
        if (name === '*') state.wildcard = false;
        else state.names.delete(name);
        state.toldAbsent.delete(name);
      }
      // The client drops what it unsubscribed from; forget it so a later
      // subscribe sends it again.
      for (const name of [...state.client.keys()]) if (!inScope(state, name)) state.client.delete(name);
      const snapshot = context.snapshot();
      if (snapshot && (subscribe.length > 0 || !state.answered)) push(snapshot, [typeUrl]);
    },
    onSnapshot(snapshot: Snapshot) {
      push(snapshot, [...types.keys()]);
    },
  };
}
