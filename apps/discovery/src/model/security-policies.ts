/**
 * Which security policies apply to a workload, with Istio's scoping and
 * precedence rules. Pure functions over the push context's sorted lists.
 *
 * @see https://istio.io/latest/docs/concepts/security/#peer-authentication
 * @see https://istio.io/latest/docs/concepts/security/#authorization-policies
 */
import type { MtlsMode, MtlsModeDefault, PeerAuthentication } from '@weft/config';
import { labelsMatch } from './hosts.ts';

/** The effective mTLS mode of a workload port: what the inbound side accepts. */
export type EffectiveMtlsMode = MtlsModeDefault;

/** A policy kind with Istio's `selector.matchLabels` (or `targetRef`, which Weft does not apply). */
interface SelectablePolicy {
  readonly metadata: { readonly namespace: string; readonly name: string };
  readonly spec: {
    readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> };
    readonly targetRef?: unknown;
    readonly targetRefs?: readonly unknown[];
  };
}

function selectorOf(policy: SelectablePolicy): Readonly<Record<string, string>> | undefined {
  const labels = policy.spec.selector?.matchLabels;
  return labels && Object.keys(labels).length > 0 ? labels : undefined;
}

/** True when the policy binds to Kubernetes Gateway API targets (`targetRef`/`targetRefs`) instead of a selector. */
export function usesTargetRef(policy: SelectablePolicy): boolean {
  return policy.spec.targetRef !== undefined || (policy.spec.targetRefs?.length ?? 0) > 0;
}

/**
 * The AuthorizationPolicies or RequestAuthentications that apply to a
 * workload in `namespace` with `labels`, in namespace/name order: those of
 * the root namespace (selector-less ones apply mesh-wide, ones with a
 * selector to matching workloads in every namespace) and those of the
 * workload's namespace (selector-less ones to all its workloads). Policies
 * with `targetRef(s)` are left out (they attach to Kubernetes Gateways).
 */
export function policiesForWorkload<P extends SelectablePolicy>(
  policies: readonly P[],
  rootNamespace: string,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): P[] {
  return policies.filter((policy) => {
    if (usesTargetRef(policy)) return false;
    const ns = policy.metadata.namespace;
    if (ns !== namespace && ns !== rootNamespace) return false;
    return labelsMatch(selectorOf(policy), labels);
  });
}

function definedMode(mode: MtlsMode | undefined): EffectiveMtlsMode | undefined {
  return mode === undefined || mode === 'UNSET' ? undefined : mode;
}

/** The PeerAuthentications that decide a workload's mode: workload-level, namespace-level, mesh-level. */
export interface PeerAuthenticationLevels {
  readonly workload: PeerAuthentication | undefined;
  readonly namespace: PeerAuthentication | undefined;
  readonly mesh: PeerAuthentication | undefined;
}

/**
 * Istio's lookup: the first (by name) PeerAuthentication in the workload's
 * namespace whose selector matches its labels; the namespace's
 * selector-less one; the root namespace's selector-less one. (Istio picks
 * the oldest when several compete; Weft has no creation time and picks the
 * first by name.)
 */
export function peerAuthenticationLevels(
  policies: readonly PeerAuthentication[],
  rootNamespace: string,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): PeerAuthenticationLevels {
  const inNamespace = policies.filter((p) => p.metadata.namespace === namespace);
  return {
    workload: inNamespace.find((p) => {
      const selector = selectorOf(p);
      return selector !== undefined && labelsMatch(selector, labels);
    }),
    namespace: inNamespace.find((p) => selectorOf(p) === undefined),
    mesh: policies.find((p) => p.metadata.namespace === rootNamespace && selectorOf(p) === undefined),
  };
}

/**
 * The effective mode of `port` (a workload port; undefined for the
 * workload as a whole): the workload-level policy's `portLevelMtls[port]`,
 * then its `mtls.mode`, then the namespace's, then the mesh's, then
 * `fallback` (MeshConfig's default). `UNSET` at any level inherits from the
 * next one.
 */
export function effectiveMtlsMode(
  levels: PeerAuthenticationLevels,
  port: number | undefined,
  fallback: EffectiveMtlsMode,
): EffectiveMtlsMode {
  const portLevel = port === undefined ? undefined : levels.workload?.spec.portLevelMtls?.[String(port)];
  return (
    definedMode(portLevel?.mode) ??
    definedMode(levels.workload?.spec.mtls?.mode) ??
    definedMode(levels.namespace?.spec.mtls?.mode) ??
    definedMode(levels.mesh?.spec.mtls?.mode) ??
    fallback
  );
}
