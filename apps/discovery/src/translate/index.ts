/**
 * weft-discovery's translation: (proxy, push context) -> Envoy resources
 * named as Istio names them, for sidecars, gateways and proxyless gRPC
 * clients; plus a request simulator that walks generated config.
 *
 * Owns: the Istio -> Envoy mapping (docs/xds-translation.md).
 * Must not depend on: serving, sources, gRPC transport, Kubernetes. Pure
 * functions of their inputs.
 */

export type { GeneratedResources } from './generate.ts';
export { generateResources, proxyViewKey } from './generate.ts';
export {
  BLACKHOLE_CLUSTER,
  clusterName,
  INBOUND_PASSTHROUGH_CLUSTER,
  istioMtlsSni,
  PASSTHROUGH_CLUSTER,
  parseClusterName,
  proxylessName,
  VIRTUAL_INBOUND,
  VIRTUAL_OUTBOUND,
} from './naming.ts';
export type { RbacDecision, RbacInput } from './security/rbac-evaluator.ts';
export { evaluateRbac } from './security/rbac-evaluator.ts';
export { SDS_ROOT_CA, SDS_WORKLOAD_CERT } from './security/tls-contexts.ts';
export type { SimulatedRequest, SimulatedTransport, SimulationResult } from './simulate.ts';
export { simulateRequest } from './simulate.ts';
export type {
  InboundOutcome,
  InboundSimulation,
  SimulatedInboundRequest,
} from './simulate-authz.ts';
export { simulateInbound } from './simulate-authz.ts';
