/**
 * @weft/xds: Envoy xDS v3 for Weft - proto loading, resource type URLs,
 * resource encoding, snapshots and a per-node snapshot cache, an ADS server
 * (state of the world + delta) over @grpc/grpc-js, and an ADS client.
 *
 * Owns: the xDS wire protocol and its state machines, encoded resource bytes.
 * Must not depend on: @weft/config or any app (turning Istio config into
 * Envoy resources is the discovery server's job), Kubernetes.
 */

export type { Debounce, DebounceOptions, DebounceTimers } from './cache/debounce.ts';
export { createDebounce } from './cache/debounce.ts';
export { composeResourceList, resourceListParts } from './cache/resource-list.ts';
export type { ConsistencyOptions, Snapshot } from './cache/snapshot.ts';
export { createSnapshot, SnapshotError } from './cache/snapshot.ts';
export type { SnapshotCache } from './cache/snapshot-cache.ts';
export { createSnapshotCache } from './cache/snapshot-cache.ts';
export { createAdsClient } from './client/ads-client.ts';
export type {
  AdsClient,
  AdsClientNode,
  AdsClientOptions,
  ConnectionState,
  ResponseInfo,
  TypeUpdate,
  ValidationContext,
} from './client/ads-client-types.ts';
export type { Backoff, BackoffOptions } from './client/backoff.ts';
export { createBackoff } from './client/backoff.ts';
export type { EnvoyProtos } from './protos/envoy-protos.ts';
export { ENVOY_PROTO_FILES, envoyProtoIncludeDirs, loadEnvoyProtos } from './protos/envoy-protos.ts';
export type { ResourceReference, ResourceType } from './resource-types/index.ts';
export { RESOURCE_TYPES, resourceType } from './resource-types/index.ts';
export type { BodyProblem } from './resources/body-check.ts';
export type { Resource, ResourceBody } from './resources/resource.ts';
export {
  decodeResource,
  encodeResource,
  InvalidResourceError,
  resourceFromBody,
  resourceVersion,
  validateResource,
} from './resources/resource.ts';
export { resourceToJson } from './resources/resource-json.ts';
export { createAdsServer } from './server/ads-server.ts';
export type {
  AckInfo,
  AdsMode,
  AdsServer,
  AdsServerOptions,
  NackInfo,
  NackRecord,
  NodeInfo,
  ProxySyncStatus,
  PushInfo,
  StreamInfo,
  TypeSyncStatus,
} from './server/ads-server-types.ts';
export {
  buildCluster,
  buildClusterLoadAssignment,
  buildListener,
  buildRouteConfiguration,
  buildSecret,
} from './testing/resource-builders.ts';
export type { TestControlPlane, TestControlPlaneOptions } from './testing/test-control-plane.ts';
export { startTestControlPlane } from './testing/test-control-plane.ts';
export { WaitTimeoutError, waitUntil } from './testing/wait-until.ts';
export type { TypeUrl } from './type-urls.ts';
export {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  isTypeUrl,
  LISTENER_TYPE_URL,
  PUSH_ORDER,
  ROUTE_TYPE_URL,
  SECRET_TYPE_URL,
  TYPE_SHORT_NAMES,
} from './type-urls.ts';
export { ADS_SERVICE_NAME, DELTA_METHOD_PATH, SOTW_METHOD_PATH } from './wire/ads-wire.ts';
