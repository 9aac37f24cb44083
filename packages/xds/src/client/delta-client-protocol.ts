/**
 * The client side of incremental ADS: opening requests with
 * `initial_resource_versions` (so a reconnect resumes), subscribe and
 * unsubscribe requests, and response handling with per-resource versions
 * and `removed_resources` (xDS doc, "Incremental xDS").
 */
import type { Resource } from '../resources/resource.ts';
import type { TypeUrl } from '../type-urls.ts';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from '../wire/ads-wire.ts';
import type { AdsClientOptions } from './ads-client-types.ts';
import { NACK_CODE, type ResponseOutcome, runValidate } from './client-outcome.ts';
import { type ClientTypeState, decodeWireResources, indexApplied } from './client-type-state.ts';

/** The first request for a type on a new stream: full subscription plus what the client already has. */
export function deltaOpeningRequest(typeUrl: TypeUrl, state: ClientTypeState): DeltaDiscoveryRequest {
  return {
    typeUrl,
    resourceNamesSubscribe: state.wildcard ? ['*', ...state.names] : [...state.names],
    initialResourceVersions: Object.fromEntries(state.resourceVersions),
  };
}

/** A subscription change on a live stream. */
export function deltaSubscriptionRequest(
  typeUrl: TypeUrl,
  subscribe: readonly string[],
  unsubscribe: readonly string[],
): DeltaDiscoveryRequest {
  return { typeUrl, resourceNamesSubscribe: [...subscribe], resourceNamesUnsubscribe: [...unsubscribe] };
}

/** Validates and applies (or rejects) one delta response; mutates `state` only when accepted. */
export function handleDeltaResponse(
  typeUrl: TypeUrl,
  state: ClientTypeState,
  response: DeltaDiscoveryResponse,
  options: Pick<AdsClientOptions, 'validate' | 'decodeCache'>,
): ResponseOutcome<DeltaDiscoveryRequest> {
  const nonce = response.nonce ?? '';
  const version = response.systemVersionInfo ?? '';
  const entries = response.resources ?? [];
  const decoded = decodeWireResources(
    typeUrl,
    entries.map((entry) => ({ any: entry.resource, name: entry.name })),
    state.byDigest,
    options.decodeCache,
  );
  const removed = response.removedResources ?? [];
  const problems = [...decoded.problems];
  if (problems.length === 0) {
    problems.push(
      ...runValidate(options.validate, typeUrl, decoded.resources, {
        mode: 'delta',
        version,
        nonce,
        removed,
        current: state.resources,
      }),
    );
  }
  if (problems.length > 0) {
    const request = {
      typeUrl,
      responseNonce: nonce,
      errorDetail: { code: NACK_CODE, message: problems.join('; ') },
    };
    return { kind: 'nack', request, problems, version };
  }
  const applied = new Map<string, Resource>(state.resources);
  const versions = new Map(entries.map((e) => [e.name, e.version ?? '']));
  for (const resource of decoded.resources) {
    applied.set(resource.name, resource);
    state.resourceVersions.set(resource.name, versions.get(resource.name) ?? '');
  }
  for (const name of removed) {
    applied.delete(name);
    state.resourceVersions.delete(name);
  }
  state.resources = applied;
  indexApplied(state, decoded.digests);
  state.version = version;
  return {
    kind: 'ack',
    request: { typeUrl, responseNonce: nonce },
    update: { resources: applied, version, removed },
  };
}
