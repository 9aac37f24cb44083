/**
 * Spec types of the `security.istio.io` API group, with Istio's camelCase
 * YAML field names.
 *
 * @see https://istio.io/latest/docs/reference/config/security/
 */

/** A Kubernetes-style label selector; Istio reads only `matchLabels`. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
}

/** A reference to a Kubernetes Gateway or Service a policy attaches to. */
export interface PolicyTargetReference {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

// ---------------------------------------------------------------------------
// PeerAuthentication

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface MutualTLS {
  mode?: MtlsMode;
}

export interface PeerAuthenticationSpec {
  selector?: LabelSelector;
  mtls?: MutualTLS;
  /** Keyed by the workload's port number (YAML keys are strings). */
  portLevelMtls?: Record<string, MutualTLS>;
}

// ---------------------------------------------------------------------------
// AuthorizationPolicy

export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  trustDomains?: string[];
  notTrustDomains?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

/**
 * One rule: a request matches when it matches any `from`, any `to` and all
 * `when` (an absent list matches everything). An empty rule `{}` matches
 * every request.
 */
export interface Rule {
  from?: { source: Source }[];
  to?: { operation: Operation }[];
  when?: Condition[];
}

/**
 * Empty-rule semantics (Istio's): no `rules` with action ALLOW allows
 * nothing (deny all for the selected workloads); `rules: [{}]` allows all.
 * An ALLOW policy with an empty spec `{}` denies all.
 */
export interface AuthorizationPolicySpec {
  selector?: LabelSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  rules?: Rule[];
  /** Default ALLOW. */
  action?: AuthorizationAction;
  /** Only with action CUSTOM. */
  provider?: { name: string };
}

// ---------------------------------------------------------------------------
// RequestAuthentication

export interface JWTHeader {
  name: string;
  prefix?: string;
}

export interface ClaimToHeader {
  header: string;
  claim: string;
}

export interface JWTRule {
  /** Required unless `jwksUri` is set. */
  issuer?: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: string;
  fromHeaders?: JWTHeader[];
  fromParams?: string[];
  fromCookies?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: ClaimToHeader[];
  timeout?: string;
  /** Claims whose space-separated string value is matched as a list (e.g. `scope`). */
  spaceDelimitedClaims?: string[];
  presence?: string;
}

export interface RequestAuthenticationSpec {
  selector?: LabelSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  jwtRules?: JWTRule[];
}
