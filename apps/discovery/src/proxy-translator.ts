/**
 * Weft's translation behind the serving layer's `Translator` interface: the
 * four functions of `model/` and `translate/`, and the SDS names proxies
 * resolve themselves, nothing more.
 */
import { SECRET_TYPE_URL } from '@weft/xds';
import { createPushContext, type Proxy as MeshProxy, type PushContext, parseProxy } from './model/index.ts';
import type { Translator } from './serve/push-orchestrator.ts';
import { generateResources, proxyViewKey, SDS_ROOT_CA, SDS_WORKLOAD_CERT } from './translate/index.ts';

/** The translator `startDiscovery` uses. */
export function createProxyTranslator(): Translator<MeshProxy, PushContext> {
  return {
    parseProxy,
    createPushContext,
    generateResources,
    proxyViewKey,
    resolvedByProxy: RESOLVED_BY_PROXY,
  };
}

/** The mesh mTLS secrets: referenced by SDS name in clusters and listeners, resolved by each proxy itself. */
const RESOLVED_BY_PROXY = { [SECRET_TYPE_URL]: new Set([SDS_WORKLOAD_CERT, SDS_ROOT_CA]) };
