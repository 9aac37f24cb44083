/**
 * The security policies that apply to the proxy's own workload (its
 * namespace and labels), read from the push context with Istio's scoping
 * (model/security-policies.ts).
 */
import {
  type EffectiveMtlsMode,
  effectiveMtlsMode,
  type PeerAuthenticationLevels,
  peerAuthenticationLevels,
  policiesForWorkload,
} from '../../model/security-policies.ts';
import type { TranslateContext } from '../context.ts';

/** The policies of `list` (AuthorizationPolicies or RequestAuthentications) selecting the proxy's workload. */
export function workloadPolicies<P extends Parameters<typeof policiesForWorkload>[0][number]>(
  ctx: TranslateContext,
  list: readonly P[],
): P[] {
  return policiesForWorkload(list, ctx.push.mesh.rootNamespace, ctx.proxy.namespace, ctx.proxy.labels);
}

/** The PeerAuthentications deciding the proxy's workload's mode, by level. */
export function workloadPeerAuthentication(ctx: TranslateContext): PeerAuthenticationLevels {
  return peerAuthenticationLevels(
    ctx.push.peerAuthentications,
    ctx.push.mesh.rootNamespace,
    ctx.proxy.namespace,
    ctx.proxy.labels,
  );
}

/** The inbound mTLS mode of workload port `port`, or of the workload as a whole when `port` is undefined. */
export function inboundMtlsMode(ctx: TranslateContext, port: number | undefined): EffectiveMtlsMode {
  return effectiveMtlsMode(workloadPeerAuthentication(ctx), port, ctx.push.mesh.defaultMtlsMode);
}
