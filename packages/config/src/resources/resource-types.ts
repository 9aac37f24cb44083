/**
 * The envelope every Istio resource shares: kind, apiVersion, metadata and
 * where the object came from. Spec types live beside this file, one module
 * per API group.
 */
import type {
  DestinationRuleSpec,
  GatewaySpec,
  ServiceEntrySpec,
  SidecarSpec,
  VirtualServiceSpec,
  WorkloadEntrySpec,
} from './networking-types.ts';
import type {
  AuthorizationPolicySpec,
  PeerAuthenticationSpec,
  RequestAuthenticationSpec,
} from './security-types.ts';

/** The Istio resource kinds Weft reads. */
export type Kind =
  | 'VirtualService'
  | 'DestinationRule'
  | 'Gateway'
  | 'ServiceEntry'
  | 'WorkloadEntry'
  | 'Sidecar'
  | 'PeerAuthentication'
  | 'AuthorizationPolicy'
  | 'RequestAuthentication';

/** Kubernetes object metadata, reduced to what the mesh uses. */
export interface ObjectMeta {
  name: string;
  /** Defaulted to `default` when the YAML leaves it out. */
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
}

/** Where an object was read from: a file path and the 1-based line of its document start. */
export interface SourceRef {
  file: string;
  line: number;
}

/** Maps each kind to its spec type. */
export interface SpecByKind {
  VirtualService: VirtualServiceSpec;
  DestinationRule: DestinationRuleSpec;
  Gateway: GatewaySpec;
  ServiceEntry: ServiceEntrySpec;
  WorkloadEntry: WorkloadEntrySpec;
  Sidecar: SidecarSpec;
  PeerAuthentication: PeerAuthenticationSpec;
  AuthorizationPolicy: AuthorizationPolicySpec;
  RequestAuthentication: RequestAuthenticationSpec;
}

/** The spec type of kind `K`. */
export type SpecOf<K extends Kind> = SpecByKind[K];

/**
 * One validated Istio resource. `apiVersion` is kept as written
 * (`networking.istio.io/v1alpha3`, `v1beta1` or `v1`; `security.istio.io/v1beta1` or `v1`);
 * the spec shape is the same across those versions.
 */
export interface ConfigObject<K extends Kind = Kind> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: SpecOf<K>;
  source?: SourceRef;
}

export type VirtualService = ConfigObject<'VirtualService'>;
export type DestinationRule = ConfigObject<'DestinationRule'>;
export type Gateway = ConfigObject<'Gateway'>;
export type ServiceEntry = ConfigObject<'ServiceEntry'>;
export type WorkloadEntry = ConfigObject<'WorkloadEntry'>;
export type Sidecar = ConfigObject<'Sidecar'>;
export type PeerAuthentication = ConfigObject<'PeerAuthentication'>;
export type AuthorizationPolicy = ConfigObject<'AuthorizationPolicy'>;
export type RequestAuthentication = ConfigObject<'RequestAuthentication'>;
