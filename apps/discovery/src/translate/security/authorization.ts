/**
 * AuthorizationPolicy -> Envoy RBAC filters on the inbound side of the
 * selected workloads (HTTP chains: `envoy.filters.http.rbac`; TCP chains:
 * `envoy.filters.network.rbac`), in Istio's evaluation order: AUDIT (action
 * LOG, never decides), then DENY, then ALLOW.
 *
 * - a request matching any DENY rule is denied;
 * - with no ALLOW policy there is no ALLOW filter (allow all); with one, a
 *   request matching no ALLOW rule is denied (an ALLOW policy without rules,
 *   `spec: {}`, denies everything; `rules: [{}]` allows everything);
 * - on TCP chains a rule using HTTP-only fields is dropped from ALLOW
 *   policies and kept without those fields in DENY/AUDIT policies (both are
 *   the more restrictive reading), each with a warning;
 * - CUSTOM (ext_authz) policies are not supported: warned and ignored.
 *
 * Policy names are Istio's: `ns[NAMESPACE]-policy[NAME]-rule[INDEX]`.
 *
 * @see https://istio.io/latest/docs/concepts/security/#authorization-policy-precedence
 * @see https://istio.io/latest/docs/ops/configuration/security/authorization-tcp/ (HTTP-only fields on TCP)
 */
import type { AuthorizationAction, AuthorizationPolicy } from '@weft/config';
import type { TranslateContext } from '../context.ts';
import { FILTER_NAMES, HTTP_RBAC, NETWORK_RBAC } from '../envoy/type-names.ts';
import { type Body, typed } from '../envoy/values.ts';
import { translateRule } from './rbac-rules.ts';
import { workloadPolicies } from './workload-policies.ts';

/** Envoy RBAC actions in the order their filters run. */
const FILTER_ORDER: readonly ['AUDIT' | 'DENY' | 'ALLOW', 'LOG' | 'DENY' | 'ALLOW'][] = [
  ['AUDIT', 'LOG'],
  ['DENY', 'DENY'],
  ['ALLOW', 'ALLOW'],
];

/** Istio's RBAC policy name for rule `index` of a policy. */
export function rbacPolicyName(policy: AuthorizationPolicy, index: number): string {
  return `ns[${policy.metadata.namespace}]-policy[${policy.metadata.name}]-rule[${index}]`;
}

/** The AuthorizationPolicies that apply to the proxy's workload, CUSTOM ones warned and left out. */
export function workloadAuthorizationPolicies(ctx: TranslateContext): AuthorizationPolicy[] {
  const selected = workloadPolicies(ctx, ctx.push.authorizationPolicies);
  return selected.filter((policy) => {
    if ((policy.spec.action ?? 'ALLOW') !== 'CUSTOM') return true;
    ctx.warn(
      `AuthorizationPolicy ${policy.metadata.namespace}/${policy.metadata.name}: action CUSTOM (ext_authz) is not supported; ignored`,
    );
    return false;
  });
}

/** The `rules` of an RBAC config: one Envoy policy per translated Istio rule. */
function rbacRules(
  ctx: TranslateContext,
  policies: readonly AuthorizationPolicy[],
  action: AuthorizationAction,
  tcp: boolean,
): Body {
  const rbacPolicies: Record<string, Body> = {};
  for (const policy of policies) {
    (policy.spec.rules ?? []).forEach((rule, index) => {
      const name = rbacPolicyName(policy, index);
      const translated = translateRule(rule, {
        tcp,
        onUnusable: action === 'ALLOW' ? 'drop-rule' : 'drop-field',
      });
      if (translated.dropped.length > 0) {
        const where = tcp ? 'on TCP chains' : 'on HTTP chains';
        const outcome = translated.policy ? 'applied without them' : 'rule never matches';
        ctx.warn(
          `AuthorizationPolicy ${policy.metadata.namespace}/${policy.metadata.name} rule ${index}: ${translated.dropped.join(', ')} cannot be evaluated ${where}; ${outcome}`,
        );
      }
      if (translated.policy) rbacPolicies[name] = translated.policy;
    });
  }
  return Object.keys(rbacPolicies).length > 0 ? { policies: rbacPolicies } : {};
}

/**
 * The RBAC configs of one chain, in filter order, each `{ action, rules }`
 * ready for the HTTP or network RBAC filter. No policy of an action = no
 * filter for it; an ALLOW filter with no policies denies everything.
 */
function rbacConfigs(ctx: TranslateContext, tcp: boolean): Body[] {
  const policies = workloadAuthorizationPolicies(ctx);
  const configs: Body[] = [];
  for (const [istioAction, envoyAction] of FILTER_ORDER) {
    const ofAction = policies.filter((p) => (p.spec.action ?? 'ALLOW') === istioAction);
    if (ofAction.length === 0) continue;
    const rules: Body = { action: envoyAction, ...rbacRules(ctx, ofAction, istioAction, tcp) };
    // A DENY or LOG filter with no policy left matches nothing: leave it out.
    if (envoyAction !== 'ALLOW' && rules.policies === undefined) continue;
    configs.push(rules);
  }
  return configs;
}

/** `envoy.filters.http.rbac` filters for an HTTP chain of the proxy's workload (AUDIT, DENY, ALLOW). */
export function httpRbacFilters(ctx: TranslateContext): Body[] {
  return rbacConfigs(ctx, false).map((rules) => ({
    name: FILTER_NAMES.httpRbac,
    typedConfig: typed(HTTP_RBAC, { rules }),
  }));
}

/** `envoy.filters.network.rbac` filters for a TCP chain of the proxy's workload (AUDIT, DENY, ALLOW). */
export function networkRbacFilters(ctx: TranslateContext): Body[] {
  return rbacConfigs(ctx, true).map((rules) => ({
    name: FILTER_NAMES.networkRbac,
    typedConfig: typed(NETWORK_RBAC, { rules, statPrefix: 'tcp.' }),
  }));
}
