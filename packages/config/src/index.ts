/**
 * @weft/config: the Istio-compatible configuration model. Resource types for
 * the networking.istio.io and security.istio.io APIs, YAML loading that keeps
 * each object's file and line, validation that returns problems with field
 * paths (never throws), the mesh model (services, workloads, endpoints), and
 * a typed config store fed by a watched directory.
 *
 * Owns: the resource schemas, validation rules, problem format, mesh model.
 * Must not depend on: any other @weft project, Kubernetes, gRPC, Envoy types.
 */

export { listYamlFiles, loadConfigPaths } from './loading/load-config-paths.ts';
export type { ParseResult } from './loading/parse-config-yaml.ts';
export { parseConfigYaml } from './loading/parse-config-yaml.ts';
export {
  buildMeshModel,
  createMeshModel,
  spiffeId,
  TLS_MODE_LABEL,
  workloadFromEntry,
} from './mesh/build-mesh-model.ts';
export type {
  KubernetesEndpointSliceInput,
  KubernetesServiceInput,
  PodInfo,
} from './mesh/kubernetes-model.ts';
export {
  EXPORT_TO_ANNOTATION,
  endpointsFromEndpointSlice,
  SERVICE_NAME_LABEL,
  serviceFromKubernetes,
  withServiceAccounts,
} from './mesh/kubernetes-model.ts';
export type {
  Endpoint,
  MeshConfig,
  MeshModel,
  MtlsModeDefault,
  Protocol,
  Service,
  ServicePort,
  Workload,
} from './mesh/mesh-types.ts';
export { defaultMeshConfig, parseProtocol, protocolFromPort } from './mesh/protocol.ts';
export type * from './resources/networking-types.ts';
export type {
  AuthorizationPolicy,
  ConfigObject,
  DestinationRule,
  Gateway,
  Kind,
  ObjectMeta,
  PeerAuthentication,
  RequestAuthentication,
  ServiceEntry,
  Sidecar,
  SourceRef,
  SpecByKind,
  SpecOf,
  VirtualService,
  WorkloadEntry,
} from './resources/resource-types.ts';
export type * from './resources/security-types.ts';
export { parseDuration } from './schema/duration.ts';
export { configKey, createConfigStore } from './store/config-store.ts';
export { ConfigSourceError, createDirectorySource } from './store/directory-source.ts';
export type {
  ConfigEvent,
  ConfigListener,
  ConfigStore,
  DirectorySource,
  DirectorySourceOptions,
  Logger,
} from './store/store-types.ts';
export type { Problem, Severity } from './validation/problem.ts';
export { formatProblem } from './validation/problem.ts';
export { validateObject } from './validation/validate-object.ts';
export { hostMatches, resolveShortHost, validateReferences } from './validation/validate-references.ts';
