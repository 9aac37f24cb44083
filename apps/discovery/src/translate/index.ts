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
export type { SimulatedRequest, SimulationResult } from './simulate.ts';
export { simulateRequest } from './simulate.ts';
