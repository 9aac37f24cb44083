/**
 * One AuthorizationPolicy rule -> one Envoy RBAC Policy (permissions from
 * `to` and destination-side `when` keys, principals from `from` and
 * source-side `when` keys), the way Istio's authz model generates them.
 *
 * Within a rule every field must match (andRules / andIds); the values of
 * one field, the `to` operations and the `from` sources each match if any
 * does (orRules / orIds); `not*` fields and `notValues` negate an or-list.
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/rbac/v3/rbac.proto
 */
import type { Condition, Operation, Rule, Source } from '@weft/config';
import type { Body } from '../envoy/values.ts';

/** Filter whose dynamic metadata carries a validated JWT's payload (see jwt-authn.ts). */
export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';
/** Key of the payload in the jwt_authn filter's dynamic metadata (`payloadInMetadata`). */
export const JWT_PAYLOAD_KEY = 'payload';

/** Istio's string match: `*` = present, `abc*` = prefix, `*abc` = suffix, else exact. */
export function istioStringMatcher(value: string, ignoreCase = false): Body {
  const base: Body = ignoreCase ? { ignoreCase: true } : {};
  if (value === '*') return { safeRegex: { regex: '.+' } };
  if (value.endsWith('*')) return { ...base, prefix: value.slice(0, -1) };
  if (value.startsWith('*')) return { ...base, suffix: value.slice(1) };
  return { ...base, exact: value };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Envoy CIDR from an Istio IP block (`10.0.0.0/8`, or one address = /32 or /128). */
export function cidrRange(block: string): Body {
  const [address = '', length] = block.split('/', 2);
  const full = address.includes(':') ? 128 : 32;
  return { addressPrefix: address, prefixLen: { value: length === undefined ? full : Number(length) } };
}

// -- combinators: single-element lists collapse, empty lists mean "any" --

function andPermissions(rules: Body[]): Body {
  if (rules.length === 0) return { any: true };
  return rules.length === 1 ? rules[0]! : { andRules: { rules } };
}
function orPermissions(rules: Body[]): Body {
  return rules.length === 1 ? rules[0]! : { orRules: { rules } };
}
function andPrincipals(ids: Body[]): Body {
  if (ids.length === 0) return { any: true };
  return ids.length === 1 ? ids[0]! : { andIds: { ids } };
}
function orPrincipals(ids: Body[]): Body {
  return ids.length === 1 ? ids[0]! : { orIds: { ids } };
}

// -- principals --

function principalName(value: string): Body {
  if (value === '*') return { authenticated: { principalName: { safeRegex: { regex: '.+' } } } };
  if (value.startsWith('*')) return { authenticated: { principalName: { suffix: value.slice(1) } } };
  const id = `spiffe://${value}`;
  return {
    authenticated: { principalName: value.endsWith('*') ? { prefix: id.slice(0, -1) } : { exact: id } },
  };
}

function namespacePrincipal(value: string): Body {
  const ns = value === '*' ? '[^/]+' : value.split('*').map(escapeRegex).join('[^/]*');
  return { authenticated: { principalName: { safeRegex: { regex: `.*/ns/${ns}/.*` } } } };
}

function serviceAccountPrincipal(value: string): Body {
  const [ns = '', sa = ''] = value.split('/', 2);
  return { authenticated: { principalName: { suffix: `/ns/${ns}/sa/${sa}` } } };
}

function trustDomainPrincipal(value: string): Body {
  return { authenticated: { principalName: { prefix: `spiffe://${value}/` } } };
}

/** A metadata matcher on one JWT claim (path under the payload), string or list-of-strings value. */
function claimPrincipal(claimPath: readonly string[], value: string): Body {
  const path = [JWT_PAYLOAD_KEY, ...claimPath].map((key) => ({ key }));
  const stringMatch = istioStringMatcher(value);
  return orPrincipals([
    { metadata: { filter: JWT_AUTHN_FILTER, path, value: { stringMatch } } },
    { metadata: { filter: JWT_AUTHN_FILTER, path, value: { listMatch: { oneOf: { stringMatch } } } } },
  ]);
}

function stringClaim(claim: string, matcher: Body): Body {
  return {
    metadata: {
      filter: JWT_AUTHN_FILTER,
      path: [{ key: JWT_PAYLOAD_KEY }, { key: claim }],
      value: { stringMatch: matcher },
    },
  };
}

/**
 * A request principal `ISSUER/SUBJECT` (split at the last `/`, as issuers
 * may be URLs): the JWT's `iss` and `sub` claims; `*` = any valid JWT.
 */
function requestPrincipal(value: string): Body {
  if (value === '*') return stringClaim('iss', { safeRegex: { regex: '.+' } });
  const slash = value.lastIndexOf('/');
  if (slash < 0) return stringClaim('iss', istioStringMatcher(value));
  const iss = value.slice(0, slash);
  const sub = value.slice(slash + 1);
  const ids = [stringClaim('iss', istioStringMatcher(iss))];
  if (sub !== '*') ids.push(stringClaim('sub', istioStringMatcher(sub)));
  return andPrincipals(ids);
}

function headerPrincipal(name: string, value: string): Body {
  return { header: { name, stringMatch: istioStringMatcher(value) } };
}

// -- permissions --

function hostPermission(value: string): Body {
  return { header: { name: ':authority', stringMatch: istioStringMatcher(value, true) } };
}
function methodPermission(value: string): Body {
  return { header: { name: ':method', stringMatch: { exact: value } } };
}
function pathPermission(value: string): Body {
  return { urlPath: { path: istioStringMatcher(value) } };
}
function portPermission(value: string): Body {
  return { destinationPort: Number(value) };
}

/** Where a generated piece goes and whether it needs HTTP. */
interface FieldSpec<T> {
  readonly field: string;
  readonly http: boolean;
  readonly build: (value: string) => T;
}

const SOURCE_FIELDS: readonly [keyof Source, keyof Source | undefined, FieldSpec<Body>][] = [
  ['principals', 'notPrincipals', { field: 'principals', http: false, build: principalName }],
  [
    'requestPrincipals',
    'notRequestPrincipals',
    { field: 'requestPrincipals', http: true, build: requestPrincipal },
  ],
  ['namespaces', 'notNamespaces', { field: 'namespaces', http: false, build: namespacePrincipal }],
  [
    'serviceAccounts',
    'notServiceAccounts',
    { field: 'serviceAccounts', http: false, build: serviceAccountPrincipal },
  ],
  ['trustDomains', 'notTrustDomains', { field: 'trustDomains', http: false, build: trustDomainPrincipal }],
  [
    'ipBlocks',
    'notIpBlocks',
    { field: 'ipBlocks', http: false, build: (v) => ({ directRemoteIp: cidrRange(v) }) },
  ],
  [
    'remoteIpBlocks',
    'notRemoteIpBlocks',
    { field: 'remoteIpBlocks', http: false, build: (v) => ({ remoteIp: cidrRange(v) }) },
  ],
];

const OPERATION_FIELDS: readonly [keyof Operation, keyof Operation, FieldSpec<Body>][] = [
  ['hosts', 'notHosts', { field: 'hosts', http: true, build: hostPermission }],
  ['ports', 'notPorts', { field: 'ports', http: false, build: portPermission }],
  ['methods', 'notMethods', { field: 'methods', http: true, build: methodPermission }],
  ['paths', 'notPaths', { field: 'paths', http: true, build: pathPermission }],
];

/** A `when` key's meaning: a principal or a permission, and whether it needs HTTP. */
function conditionSpec(key: string): ({ kind: 'principal' | 'permission' } & FieldSpec<Body>) | undefined {
  const bracket = /^([a-z.]+)\[(.+)\]$/.exec(key);
  if (bracket) {
    const [, prefix, inner] = bracket as unknown as [string, string, string];
    if (prefix === 'request.headers')
      return { kind: 'principal', field: key, http: true, build: (v) => headerPrincipal(inner, v) };
    if (prefix === 'request.auth.claims') {
      // Nested claims: `request.auth.claims[a][b]` is written `a][b` inside the outer brackets.
      const path = inner.split('][');
      return { kind: 'principal', field: key, http: true, build: (v) => claimPrincipal(path, v) };
    }
    return undefined;
  }
  switch (key) {
    case 'source.ip':
      return { kind: 'principal', field: key, http: false, build: (v) => ({ directRemoteIp: cidrRange(v) }) };
    case 'remote.ip':
      return { kind: 'principal', field: key, http: false, build: (v) => ({ remoteIp: cidrRange(v) }) };
    case 'source.namespace':
      return { kind: 'principal', field: key, http: false, build: namespacePrincipal };
    case 'source.principal':
      return { kind: 'principal', field: key, http: false, build: principalName };
    case 'source.serviceAccount':
      return { kind: 'principal', field: key, http: false, build: serviceAccountPrincipal };
    case 'source.trustDomain':
      return { kind: 'principal', field: key, http: false, build: trustDomainPrincipal };
    case 'request.auth.principal':
      return { kind: 'principal', field: key, http: true, build: requestPrincipal };
    case 'request.auth.audiences':
      return { kind: 'principal', field: key, http: true, build: (v) => claimPrincipal(['aud'], v) };
    case 'request.auth.presenter':
      return { kind: 'principal', field: key, http: true, build: (v) => claimPrincipal(['azp'], v) };
    case 'destination.ip':
      return { kind: 'permission', field: key, http: false, build: (v) => ({ destinationIp: cidrRange(v) }) };
    case 'destination.port':
      return { kind: 'permission', field: key, http: false, build: portPermission };
    case 'connection.sni':
      return {
        kind: 'permission',
        field: key,
        http: false,
        build: (v) => ({ requestedServerName: istioStringMatcher(v) }),
      };
    default:
      return undefined;
  }
}

/** How a rule translates for one chain kind. */
export interface RuleOptions {
  /** True for a TCP (network RBAC) chain: HTTP-only fields cannot be evaluated there. */
  readonly tcp: boolean;
  /**
   * What to do with a field that cannot be evaluated (HTTP-only on TCP, an
   * unsupported key): `drop-rule` (ALLOW: the rule never matches, more
   * restrictive) or `drop-field` (DENY/AUDIT: the rule applies without it,
   * more restrictive).
   */
  readonly onUnusable: 'drop-rule' | 'drop-field';
}

/** The translated rule, or why it was dropped; `dropped` lists the fields left out. */
export type TranslatedRule = { policy: Body; dropped: string[] } | { policy: undefined; dropped: string[] };

/** Values and notValues of one field -> the and-list entries they contribute. */
function fieldEntries<T extends Body>(
  values: readonly string[] | undefined,
  notValues: readonly string[] | undefined,
  build: (v: string) => T,
  or: (items: Body[]) => Body,
  not: (item: Body) => Body,
): Body[] {
  const out: Body[] = [];
  if (values?.length) out.push(or(values.map(build)));
  if (notValues?.length) out.push(not(or(notValues.map(build))));
  return out;
}

/**
 * Translates one rule. Never throws; a rule whose unusable fields make it
 * untranslatable under `drop-rule` returns `policy: undefined`.
 */
export function translateRule(rule: Rule, options: RuleOptions): TranslatedRule {
  const dropped: string[] = [];
  const usable = (field: string, http: boolean): boolean => {
    if (http && options.tcp) {
      dropped.push(field);
      return false;
    }
    return true;
  };
  const notPrincipal = (id: Body): Body => ({ notId: id });
  const notPermission = (rule: Body): Body => ({ notRule: rule });

  const sources = (rule.from ?? []).map(({ source }) => {
    const ids: Body[] = [];
    for (const [field, notField, spec] of SOURCE_FIELDS) {
      const values = source[field];
      const notValues = notField ? source[notField] : undefined;
      if (!values?.length && !notValues?.length) continue;
      if (!usable(spec.field, spec.http)) continue;
      ids.push(...fieldEntries(values, notValues, spec.build, orPrincipals, notPrincipal));
    }
    return andPrincipals(ids);
  });
  const operations = (rule.to ?? []).map(({ operation }) => {
    const rules: Body[] = [];
    for (const [field, notField, spec] of OPERATION_FIELDS) {
      const values = operation[field];
      const notValues = operation[notField];
      if (!values?.length && !notValues?.length) continue;
      if (!usable(spec.field, spec.http)) continue;
      rules.push(...fieldEntries(values, notValues, spec.build, orPermissions, notPermission));
    }
    return andPermissions(rules);
  });

  const principals: Body[] = sources.length > 0 ? [orPrincipals(sources)] : [];
  const permissions: Body[] = operations.length > 0 ? [orPermissions(operations)] : [];
  for (const condition of rule.when ?? []) {
    const spec = conditionSpec(condition.key);
    if (!spec) {
      dropped.push(`when ${condition.key} (not supported)`);
      continue;
    }
    if (!usable(`when ${condition.key}`, spec.http)) continue;
    const entries = conditionEntries(condition, spec, spec.kind === 'principal');
    if (spec.kind === 'principal') principals.push(...entries);
    else permissions.push(...entries);
  }
  if (dropped.length > 0 && options.onUnusable === 'drop-rule') return { policy: undefined, dropped };
  return {
    policy: { permissions: [andPermissions(permissions)], principals: [andPrincipals(principals)] },
    dropped,
  };
}

function conditionEntries(condition: Condition, spec: FieldSpec<Body>, principal: boolean): Body[] {
  return principal
    ? fieldEntries(condition.values, condition.notValues, spec.build, orPrincipals, (id) => ({ notId: id }))
    : fieldEntries(condition.values, condition.notValues, spec.build, orPermissions, (r) => ({
        notRule: r,
      }));
}
