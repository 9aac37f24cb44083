/**
 * The xDS type URLs Weft serves, and the order in which they are pushed.
 *
 * See Envoy's "xDS REST and gRPC protocol" doc, section "Eventual consistency
 * considerations".
 */

export const LISTENER_TYPE_URL = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_TYPE_URL = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE_URL = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE_URL = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

/** One of the five resource type URLs Weft serves. */
export type TypeUrl =
  | typeof LISTENER_TYPE_URL
  | typeof ROUTE_TYPE_URL
  | typeof CLUSTER_TYPE_URL
  | typeof ENDPOINT_TYPE_URL
  | typeof SECRET_TYPE_URL;

/**
 * Push order for make-before-break, used whenever several types change in
 * one push (on one ADS stream):
 *
 * 1. SDS first: clusters and listeners name their TLS secrets through SDS and
 *    Envoy keeps them warming until the secret arrives, so secrets go out
 *    before the resources that use them (Istio does the same).
 * 2. CDS before EDS: EDS responses for a cluster Envoy does not know are
 *    ignored, so the cluster must exist first; Envoy then warms the new
 *    cluster until its ClusterLoadAssignment arrives. EDS is sent right after
 *    CDS, without waiting for the CDS ACK, because Envoy ACKs CDS only after
 *    warming, which needs the EDS.
 * 3. LDS after CDS/EDS: listeners route to clusters, which must be warm.
 * 4. RDS last: route configurations are pulled by the listeners that name
 *    them; a route pointing at a cluster the proxy does not yet have would
 *    send traffic to a black hole.
 * Removals go the other way round (stale clusters last), which full-state
 * CDS gives for free when the unused cluster is removed in a later push.
 */
export const PUSH_ORDER: readonly TypeUrl[] = [
  SECRET_TYPE_URL,
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
];

/** True for the five type URLs Weft serves. */
export function isTypeUrl(value: string): value is TypeUrl {
  return (PUSH_ORDER as readonly string[]).includes(value);
}

/** Short names used in logs and metrics (`LDS`, `RDS`, `CDS`, `EDS`, `SDS`). */
export const TYPE_SHORT_NAMES: Readonly<Record<TypeUrl, string>> = {
  [LISTENER_TYPE_URL]: 'LDS',
  [ROUTE_TYPE_URL]: 'RDS',
  [CLUSTER_TYPE_URL]: 'CDS',
  [ENDPOINT_TYPE_URL]: 'EDS',
  [SECRET_TYPE_URL]: 'SDS',
};
