/**
 * weft-discovery's model: the proxy a stream serves (parsed from its xDS
 * node) and the immutable push context translation reads.
 *
 * Owns: node id / metadata parsing, config indexing and Istio's precedence
 * rules (exportTo, DestinationRule lookup order, Sidecar selection).
 * Must not depend on: serving, sources, translation, gRPC, Kubernetes.
 */

export { exportedTo, hostCovers, hostsIntersect, labelsMatch, resolveHost } from './hosts.ts';
export type { ParseProxyResult, Proxy, Proxy as MeshProxy, ProxyNode } from './proxy.ts';
export { parseProxy } from './proxy.ts';
export type { IndexedDestinationRule, IndexedVirtualService, PushContext } from './push-context.ts';
export { createPushContext, MESH_GATEWAY, normalizeGateways } from './push-context.ts';
export type { EffectiveMtlsMode, PeerAuthenticationLevels } from './security-policies.ts';
export {
  effectiveMtlsMode,
  peerAuthenticationLevels,
  policiesForWorkload,
  usesTargetRef,
} from './security-policies.ts';
