/**
 * Envoy RBAC (envoy/config/rbac/v3/rbac.proto), compiled at config time
 * into predicates, with the semantics weft-discovery's generator states
 * (apps/discovery/src/translate/security/rbac-evaluator.ts, re-implemented
 * here: the proxy does not import control-plane code):
 *
 * - A policy matches when any of its permissions and any of its principals
 *   match. ALLOW: allowed iff a policy matches (no policies = deny all);
 *   DENY: denied iff a policy matches; LOG: never decides.
 * - `authenticated` needs a verified client certificate; `principalName`
 *   matches its URI SAN.
 * - Header, path and metadata rules need a request: on TCP chains (network
 *   RBAC) they never match.
 * - Metadata rules read the dynamic metadata of `filter` down `path`.
 */
import { BlockList, isIP } from 'node:net';
import { compileHeaderMatcher, compileStringMatcher, type StringPredicate } from '../config/matchers.ts';
import {
  at,
  type Body,
  isBody,
  type ProblemList,
  readBodies,
  readBody,
  readEnum,
  readString,
  toNumber,
} from '../config/problems.ts';

/** What an RBAC rule sees of a connection, and of the request on HTTP chains. */
export interface RbacInput {
  readonly peerPrincipal: string | undefined;
  readonly authenticated: boolean;
  readonly sourceIp: string;
  readonly remoteIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  readonly sni: string;
  /** Lowercase header names (pseudo-headers included); undefined on TCP. */
  readonly headers: ((name: string) => string | undefined) | undefined;
  /** Path without the query; undefined on TCP. */
  readonly path: string | undefined;
  /** Dynamic metadata by filter name (jwt_authn's payload). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

type Rule = (input: RbacInput) => boolean;

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

export interface RbacConfig {
  readonly action: RbacAction;
  /** Policies in name order (Envoy reports the first match by name). */
  readonly policies: ReadonlyArray<{ readonly name: string; readonly matches: Rule }>;
  readonly shadow: boolean;
}

export interface RbacDecision {
  readonly allowed: boolean;
  readonly action: RbacAction;
  readonly policy: string | undefined;
}

const NEVER: Rule = () => false;

function compileCidr(
  range: Body,
  path: string,
  problems: ProblemList,
): ((ip: string) => boolean) | undefined {
  const prefix = readString(range, 'addressPrefix', path, problems) ?? '';
  const family = isIP(prefix);
  if (family === 0) {
    problems.add(at(path, 'addressPrefix'), `must be an IP address, got "${prefix}"`);
    return undefined;
  }
  const lengthBody = range.prefixLen;
  const length = toNumber(isBody(lengthBody) ? lengthBody.value : lengthBody) ?? 0;
  const max = family === 6 ? 128 : 32;
  if (!Number.isInteger(length) || length < 0 || length > max) {
    problems.add(at(path, 'prefixLen'), `must be in [0, ${max}]`);
    return undefined;
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  list.addSubnet(prefix, length, type);
  return (ip) => isIP(ip) === family && list.check(ip, type);
}

function compileValueMatcher(
  matcher: Body,
  path: string,
  problems: ProblemList,
): (value: unknown) => boolean {
  if (matcher.presentMatch !== undefined) {
    const want = matcher.presentMatch === true;
    return (value) => (value !== undefined) === want;
  }
  const stringMatch = readBody(matcher, 'stringMatch', path, problems);
  if (stringMatch) {
    const test = compileStringMatcher(stringMatch, at(path, 'stringMatch'), problems) ?? (() => false);
    return (value) => typeof value === 'string' && test(value);
  }
  if (typeof matcher.boolMatch === 'boolean') {
    const want = matcher.boolMatch;
    return (value) => value === want;
  }
  const listMatch = readBody(matcher, 'listMatch', path, problems);
  if (listMatch) {
    const oneOf = readBody(listMatch, 'oneOf', at(path, 'listMatch'), problems);
    if (!oneOf) {
      problems.add(at(path, 'listMatch.oneOf'), 'is required');
      return () => false;
    }
    const item = compileValueMatcher(oneOf, at(path, 'listMatch.oneOf'), problems);
    return (value) => Array.isArray(value) && value.some(item);
  }
  problems.add(path, 'one of presentMatch, stringMatch, boolMatch or listMatch is required');
  return () => false;
}

function compileMetadata(matcher: Body, path: string, problems: ProblemList): Rule {
  const filter = readString(matcher, 'filter', path, problems) ?? '';
  const keys = readBodies(matcher, 'path', path, problems).map(({ body }) => String(body.key ?? ''));
  const value = compileValueMatcher(
    readBody(matcher, 'value', path, problems) ?? {},
    at(path, 'value'),
    problems,
  );
  const invert = matcher.invert === true;
  return (input) => {
    let current: unknown = input.metadata[filter];
    for (const key of keys) {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) {
        current = undefined;
        break;
      }
      current = (current as Record<string, unknown>)[key];
    }
    return value(current) !== invert;
  };
}

function compileHeader(body: Body, path: string, problems: ProblemList): Rule {
  const matcher = compileHeaderMatcher(body, path, problems);
  if (!matcher) return NEVER;
  return (input) => input.headers !== undefined && matcher.test(input.headers(matcher.name));
}

function compileUrlPath(body: Body, path: string, problems: ProblemList): Rule {
  const pathMatcher = readBody(body, 'path', path, problems);
  if (!pathMatcher) {
    problems.add(at(path, 'path'), 'is required');
    return NEVER;
  }
  const test = compileStringMatcher(pathMatcher, at(path, 'path'), problems) ?? (() => false);
  return (input) => input.path !== undefined && test(input.path);
}

function compileList(
  parent: Body,
  field: string,
  listField: string,
  path: string,
  problems: ProblemList,
  compile: (body: Body, path: string, problems: ProblemList) => Rule,
): Rule[] {
  const set = readBody(parent, field, path, problems) ?? {};
  return readBodies(set, listField, at(path, field), problems).map(({ body, path: p }) =>
    compile(body, p, problems),
  );
}

/** Compiles an RBAC Permission. */
export function compilePermission(body: Body, path: string, problems: ProblemList): Rule {
  if (body.any === true) return () => true;
  if (body.andRules) {
    const rules = compileList(body, 'andRules', 'rules', path, problems, compilePermission);
    return (input) => rules.every((r) => r(input));
  }
  if (body.orRules) {
    const rules = compileList(body, 'orRules', 'rules', path, problems, compilePermission);
    return (input) => rules.some((r) => r(input));
  }
  const not = readBody(body, 'notRule', path, problems);
  if (not) {
    const rule = compilePermission(not, at(path, 'notRule'), problems);
    return (input) => !rule(input);
  }
  const header = readBody(body, 'header', path, problems);
  if (header) return compileHeader(header, at(path, 'header'), problems);
  const urlPath = readBody(body, 'urlPath', path, problems);
  if (urlPath) return compileUrlPath(urlPath, at(path, 'urlPath'), problems);
  const destinationIp = readBody(body, 'destinationIp', path, problems);
  if (destinationIp) {
    const test = compileCidr(destinationIp, at(path, 'destinationIp'), problems);
    return test ? (input) => test(input.destinationIp) : NEVER;
  }
  if (body.destinationPort !== undefined) {
    const port = toNumber(body.destinationPort);
    return (input) => input.destinationPort === port;
  }
  const sni = readBody(body, 'requestedServerName', path, problems);
  if (sni) {
    const test = compileStringMatcher(sni, at(path, 'requestedServerName'), problems) ?? (() => false);
    return (input) => test(input.sni);
  }
  const metadata = readBody(body, 'metadata', path, problems);
  if (metadata) return compileMetadata(metadata, at(path, 'metadata'), problems);
  problems.add(path, `unsupported permission ${Object.keys(body).join(', ') || '(empty)'}`);
  return NEVER;
}

/** Compiles an RBAC Principal. */
export function compilePrincipal(body: Body, path: string, problems: ProblemList): Rule {
  if (body.any === true) return () => true;
  if (body.andIds) {
    const ids = compileList(body, 'andIds', 'ids', path, problems, compilePrincipal);
    return (input) => ids.every((r) => r(input));
  }
  if (body.orIds) {
    const ids = compileList(body, 'orIds', 'ids', path, problems, compilePrincipal);
    return (input) => ids.some((r) => r(input));
  }
  const not = readBody(body, 'notId', path, problems);
  if (not) {
    const rule = compilePrincipal(not, at(path, 'notId'), problems);
    return (input) => !rule(input);
  }
  const authenticated = readBody(body, 'authenticated', path, problems);
  if (authenticated) {
    const name = readBody(authenticated, 'principalName', at(path, 'authenticated'), problems);
    const test: StringPredicate | undefined = name
      ? (compileStringMatcher(name, at(path, 'authenticated.principalName'), problems) ?? (() => false))
      : undefined;
    return (input) => input.authenticated && (test === undefined || test(input.peerPrincipal ?? ''));
  }
  for (const [field, pick] of [
    ['directRemoteIp', (i: RbacInput) => i.sourceIp],
    ['sourceIp', (i: RbacInput) => i.sourceIp],
    ['remoteIp', (i: RbacInput) => i.remoteIp],
  ] as const) {
    const range = readBody(body, field, path, problems);
    if (!range) continue;
    const test = compileCidr(range, at(path, field), problems);
    return test ? (input) => test(pick(input)) : NEVER;
  }
  const header = readBody(body, 'header', path, problems);
  if (header) return compileHeader(header, at(path, 'header'), problems);
  const urlPath = readBody(body, 'urlPath', path, problems);
  if (urlPath) return compileUrlPath(urlPath, at(path, 'urlPath'), problems);
  const metadata = readBody(body, 'metadata', path, problems);
  if (metadata) return compileMetadata(metadata, at(path, 'metadata'), problems);
  problems.add(path, `unsupported principal ${Object.keys(body).join(', ') || '(empty)'}`);
  return NEVER;
}

const ACTIONS: readonly RbacAction[] = ['ALLOW', 'DENY', 'LOG'];

/**
 * Compiles an RBAC filter body (`{ rules, shadowRules? }` of the HTTP or
 * network filter). Without `rules` the filter allows everything (Envoy).
 */
export function compileRbac(body: Body, path: string, problems: ProblemList): RbacConfig | undefined {
  const rules = readBody(body, 'rules', path, problems);
  if (!rules) return undefined;
  const rulesPath = at(path, 'rules');
  const action = readEnum(rules, 'action', rulesPath, problems, ACTIONS, ACTIONS) ?? 'ALLOW';
  const policyMap = readBody(rules, 'policies', rulesPath, problems) ?? {};
  const policies = Object.keys(policyMap)
    .sort()
    .map((name) => {
      const pPath = `${at(rulesPath, 'policies')}['${name}']`;
      const policy = isBody(policyMap[name]) ? (policyMap[name] as Body) : {};
      const permissions = readBodies(policy, 'permissions', pPath, problems).map(({ body: b, path: p }) =>
        compilePermission(b, p, problems),
      );
      const principals = readBodies(policy, 'principals', pPath, problems).map(({ body: b, path: p }) =>
        compilePrincipal(b, p, problems),
      );
      if (policy.condition) problems.add(at(pPath, 'condition'), 'CEL conditions are not supported');
      const matches: Rule = (input) => permissions.some((r) => r(input)) && principals.some((r) => r(input));
      return { name, matches };
    });
  return { action, policies, shadow: false };
}

/** The decision of one compiled RBAC config for `input`. */
export function evaluateRbac(config: RbacConfig, input: RbacInput): RbacDecision {
  const matched = config.policies.find((p) => p.matches(input))?.name;
  if (config.action === 'LOG') return { allowed: true, action: 'LOG', policy: matched };
  if (config.action === 'DENY') return { allowed: matched === undefined, action: 'DENY', policy: matched };
  return { allowed: matched !== undefined, action: 'ALLOW', policy: matched };
}
