/**
 * AuthorizationPolicy: schema and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 * @see https://istio.io/latest/docs/reference/config/security/conditions/
 */
import type { AuthorizationPolicySpec, Condition, Operation, Source } from '../resources/security-types.ts';
import { cidrError } from '../schema/checks.ts';
import type { Reporter } from '../schema/reporter.ts';
import { array, enumOf, object, string, stringList } from '../schema/schema.ts';
import { checkTargetRefNamespaces, labelSelector, policyTargetReference } from './common-schemas.ts';
import { type KindDefinition, SECURITY_GROUP, SECURITY_VERSIONS } from './kind-definition.ts';

const SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
  'serviceAccounts',
  'notServiceAccounts',
  'trustDomains',
  'notTrustDomains',
] as const;
const OPERATION_FIELDS = [
  'hosts',
  'notHosts',
  'ports',
  'notPorts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
] as const;

const source = object(Object.fromEntries(SOURCE_FIELDS.map((f) => [f, stringList()])));
const operation = object(Object.fromEntries(OPERATION_FIELDS.map((f) => [f, stringList()])));
const condition = object(
  { key: string({ nonEmpty: true }), values: stringList(), notValues: stringList() },
  { required: ['key'] },
);

const rule = object({
  from: array(object({ source }, { required: ['source'] }), { nonEmpty: true }),
  to: array(object({ operation }, { required: ['operation'] }), { nonEmpty: true }),
  when: array(condition),
});

const spec = object(
  {
    selector: labelSelector,
    targetRef: policyTargetReference,
    targetRefs: array(policyTargetReference),
    rules: array(rule),
    action: enumOf(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']),
    provider: object({ name: string({ nonEmpty: true }) }, { required: ['name'] }),
  },
  { exclusive: [['selector', 'targetRef', 'targetRefs']] },
);

/** Condition keys Istio supports; `[...]` keys take a name in brackets. */
const CONDITION_KEYS = new Set([
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'source.serviceAccount',
  'source.trustDomain',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'destination.ip',
  'destination.port',
  'connection.sni',
]);
const BRACKETED_KEYS = ['request.headers', 'request.auth.claims', 'experimental.envoy.filters.'];

function conditionKeyError(key: string): string | undefined {
  if (CONDITION_KEYS.has(key)) return undefined;
  if (
    BRACKETED_KEYS.some(
      (prefix) =>
        key.startsWith(prefix) && (prefix.endsWith('.') || /^\[.+\]$/.test(key.slice(prefix.length))),
    )
  ) {
    return undefined;
  }
  return `unknown condition key ${JSON.stringify(key)}`;
}

/** `*`, `prefix*`, `*suffix` or exact: Istio allows a wildcard only at one end. */
function wildcardError(value: string): string | undefined {
  if (value === '*') return undefined;
  const inner = value.slice(1, -1);
  return inner.includes('*')
    ? `${JSON.stringify(value)}: "*" is only allowed at the start or the end`
    : undefined;
}

function checkValues(
  values: readonly string[] | undefined,
  path: string,
  check: (v: string) => string | undefined,
  report: Reporter,
) {
  values?.forEach((value, i) => {
    const reason = check(value);
    if (reason) report.error(`${path}[${i}]`, reason);
  });
}

function portError(port: string): string | undefined {
  const n = Number(port);
  return /^\d+$/.test(port) && n >= 1 && n <= 65535
    ? undefined
    : `port ${JSON.stringify(port)} must be a number in 1..65535`;
}

/** Path templates (`/{*}/x`, `/a/{**}`) put wildcards inside braces; elsewhere `*` only at one end. */
function pathError(path: string): string | undefined {
  if (path.includes('{')) {
    const rest = path.replace(/\{\*\*?\}/g, '');
    return /[{}*]/.test(rest) ? `path template ${JSON.stringify(path)} allows only {*} and {**}` : undefined;
  }
  return wildcardError(path);
}

/** Request paths start with "/": a path that does not can never match (Istio accepts it). */
function pathWarning(path: string): string | undefined {
  return path.startsWith('/') || path.startsWith('*')
    ? undefined
    : `path ${JSON.stringify(path)} does not start with "/" and never matches`;
}

function checkSource(src: Source, path: string, report: Reporter): void {
  if (SOURCE_FIELDS.every((f) => !src[f]?.length)) report.error(path, 'source must set at least one field');
  for (const field of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
    checkValues(src[field], `${path}.${field}`, cidrError, report);
  }
  for (const field of [
    'principals',
    'notPrincipals',
    'requestPrincipals',
    'notRequestPrincipals',
    'namespaces',
    'notNamespaces',
    'trustDomains',
    'notTrustDomains',
  ] as const) {
    checkValues(src[field], `${path}.${field}`, wildcardError, report);
  }
  const serviceAccounts = src.serviceAccounts?.length || src.notServiceAccounts?.length;
  const identities = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'] as const;
  if (serviceAccounts && identities.some((f) => src[f]?.length)) {
    report.error(path, 'serviceAccounts cannot be combined with principals or namespaces');
  }
}

function checkOperation(op: Operation, path: string, report: Reporter): void {
  if (OPERATION_FIELDS.every((f) => !op[f]?.length))
    report.error(path, 'operation must set at least one field');
  checkValues(op.ports, `${path}.ports`, portError, report);
  checkValues(op.notPorts, `${path}.notPorts`, portError, report);
  for (const field of ['paths', 'notPaths'] as const) {
    checkValues(op[field], `${path}.${field}`, pathError, report);
    op[field]?.forEach((value, i) => {
      const warning = pathWarning(value);
      if (warning) report.warning(`${path}.${field}[${i}]`, warning);
    });
  }
  checkValues(op.hosts, `${path}.hosts`, wildcardError, report);
}

function checkCondition(cond: Condition, path: string, report: Reporter): void {
  const reason = conditionKeyError(cond.key);
  if (reason) report.error(`${path}.key`, reason);
  if (!cond.values?.length && !cond.notValues?.length)
    report.error(path, 'one of values, notValues must be set');
  if (cond.key === 'source.ip' || cond.key === 'remote.ip' || cond.key === 'destination.ip') {
    checkValues(cond.values, `${path}.values`, cidrError, report);
    checkValues(cond.notValues, `${path}.notValues`, cidrError, report);
  }
  if (cond.key === 'destination.port') {
    checkValues(cond.values, `${path}.values`, portError, report);
    checkValues(cond.notValues, `${path}.notValues`, portError, report);
  }
}

function semantic(
  policy: AuthorizationPolicySpec,
  { report, namespace }: { report: Reporter; namespace: string },
): void {
  checkTargetRefNamespaces(policy, namespace, report);
  const action = policy.action ?? 'ALLOW';
  if (action === 'CUSTOM' && !policy.provider) report.error('spec.provider', 'required with action CUSTOM');
  if (action !== 'CUSTOM' && policy.provider)
    report.error('spec.provider', 'only allowed with action CUSTOM');
  if (action === 'CUSTOM')
    report.warning('spec.action', 'CUSTOM (external authorization) is not enforced by Weft');
  if (!policy.rules?.length) {
    // As Istio: a DENY or CUSTOM policy without rules is never triggered, which is surely a mistake.
    if (action === 'DENY' || action === 'CUSTOM')
      report.error('spec.rules', `a ${action} policy without rules never matches`);
    if (action === 'AUDIT') report.warning('spec.rules', 'an AUDIT policy without rules matches nothing');
  }
  policy.rules?.forEach((r, i) => {
    const path = `spec.rules[${i}]`;
    r.from?.forEach((f, j) => {
      checkSource(f.source, `${path}.from[${j}].source`, report);
    });
    r.to?.forEach((t, j) => {
      checkOperation(t.operation, `${path}.to[${j}].operation`, report);
    });
    r.when?.forEach((c, j) => {
      checkCondition(c, `${path}.when[${j}]`, report);
    });
  });
}

export const authorizationPolicyKind: KindDefinition<'AuthorizationPolicy'> = {
  kind: 'AuthorizationPolicy',
  group: SECURITY_GROUP,
  versions: SECURITY_VERSIONS,
  spec,
  semantic,
};
