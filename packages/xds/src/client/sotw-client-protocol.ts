/**
 * The client side of state-of-the-world ADS: request building and response
 * handling for one type. The request echoes the latest nonce and the last
 * good version; a NACK carries error_detail and keeps version_info at the
 * last good version (xDS doc, "ACK and NACK semantics").
 */

import { resourceType } from '../resource-types/index.ts';
import type { Resource } from '../resources/resource.ts';
import type { TypeUrl } from '../type-urls.ts';
import type { DiscoveryRequest, DiscoveryResponse } from '../wire/ads-wire.ts';
import type { AdsClientOptions } from './ads-client-types.ts';
import { NACK_CODE, type ResponseOutcome, runValidate } from './client-outcome.ts';
import { type ClientTypeState, decodeWireResources, indexApplied, wants } from './client-type-state.ts';

/** The resource_names of a SotW request for the state's subscription. */
function resourceNames(typeUrl: TypeUrl, state: ClientTypeState): string[] {
  const names = [...state.names];
  if (!state.wildcard) return names;
  // LDS/CDS: an empty list is the (legacy) wildcard; other types need `*`.
  return names.length === 0 && resourceType(typeUrl).fullStateInSotw ? [] : ['*', ...names];
}

/** The request for a type: opening, re-subscribing or ACKing (version and nonce from the state). */
export function sotwRequest(typeUrl: TypeUrl, state: ClientTypeState): DiscoveryRequest {
  return {
    typeUrl,
    versionInfo: state.version,
    resourceNames: resourceNames(typeUrl, state),
    responseNonce: state.nonce,
  };
}

/** Validates and applies (or rejects) one SotW response; mutates `state` only when accepted. */
export function handleSotwResponse(
  typeUrl: TypeUrl,
  state: ClientTypeState,
  response: DiscoveryResponse,
  options: Pick<AdsClientOptions, 'validate' | 'decodeCache'>,
): ResponseOutcome<DiscoveryRequest> {
  state.nonce = response.nonce ?? '';
  const version = response.versionInfo ?? '';
  const decoded = decodeWireResources(
    typeUrl,
    (response.resources ?? []).map((any) => ({ any })),
    state.byDigest,
    options.decodeCache,
  );
  const fullState = resourceType(typeUrl).fullStateInSotw;
  const incoming = new Map(decoded.resources.map((r) => [r.name, r]));
  const removed = fullState ? [...state.resources.keys()].filter((name) => !incoming.has(name)) : [];
  const problems = [...decoded.problems];
  if (incoming.size !== decoded.resources.length) problems.push('duplicate resource names in one response');
  if (problems.length === 0) {
    problems.push(
      ...runValidate(options.validate, typeUrl, decoded.resources, {
        mode: 'sotw',
        version,
        nonce: state.nonce,
        removed,
        current: state.resources,
      }),
    );
  }
  if (problems.length > 0) {
    const request = {
      ...sotwRequest(typeUrl, state),
      errorDetail: { code: NACK_CODE, message: problems.join('; ') },
    };
    return { kind: 'nack', request, problems, version };
  }
  const applied = fullState ? new Map<string, Resource>() : new Map(state.resources);
  for (const resource of decoded.resources)
    if (wants(state, resource.name) || fullState) applied.set(resource.name, resource);
  state.resources = applied;
  indexApplied(state, decoded.digests);
  state.version = version;
  return {
    kind: 'ack',
    request: sotwRequest(typeUrl, state),
    update: { resources: applied, version, removed },
  };
}
