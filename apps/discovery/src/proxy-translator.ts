/**
 * Weft's translation behind the serving layer's `Translator` interface: the
 * four functions of `model/` and `translate/`, nothing more.
 */
import { createPushContext, type Proxy as MeshProxy, type PushContext, parseProxy } from './model/index.ts';
import type { Translator } from './serve/push-orchestrator.ts';
import { generateResources, proxyViewKey } from './translate/index.ts';

/** The translator `startDiscovery` uses. */
export function createProxyTranslator(): Translator<MeshProxy, PushContext> {
  return { parseProxy, createPushContext, generateResources, proxyViewKey };
}
