/**
 * Envoy's RBAC semantics over the generated filter config (protobufjs object
 * form), as shipped code: the translation tests decide allow/deny with it,
 * and it states precisely what a proxy enforcing the same config must do.
 *
 * - A policy matches when any of its permissions and any of its principals
 *   match. ALLOW: allowed iff some policy matches (no policies = deny all).
 *   DENY: denied iff some policy matches. LOG: never decides.
 * - `authenticated.principalName` matches the peer certificate's URI SAN
 *   (a SPIFFE ID); without a peer certificate it never matches.
 * - `directRemoteIp` is the connection's source address, `remoteIp` the
 *   client address after XFF/PROXY protocol (here: given by the caller).
 * - Header, path and metadata matchers need a request; on a TCP chain
 *   (network RBAC) they never match.
 * - Metadata matchers read `filterMetadata[filter]` down `path`: a
 *   `stringMatch` needs a string there, `listMatch.oneOf` a list with an
 *   element that matches.
 *
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/rbac/v3/rbac.proto
 */
import { BlockList, isIP } from 'node:net';
import type { Body } from '../envoy/values.ts';
import { headerMatches, stringMatches } from '../simulate.ts';

/** What an RBAC filter sees of a connection (and request, on HTTP chains). */
export interface RbacInput {
  /** URI SAN of the peer's certificate; undefined for plaintext or no client certificate. */
  readonly peerPrincipal?: string | undefined;
  /** True when the connection is TLS with a verified client certificate. */
  readonly authenticated: boolean;
  readonly sourceIp: string;
  readonly remoteIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  readonly sni: string;
  /** Lowercase header names, with `:method`, `:path`, `:authority`; undefined on TCP. */
  readonly headers?: ReadonlyMap<string, string> | undefined;
  /** Path without the query string; undefined on TCP. */
  readonly path?: string | undefined;
  /** Dynamic metadata by filter name (e.g. jwt_authn's `payload`). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** The decision of one RBAC filter. */
export interface RbacDecision {
  readonly allowed: boolean;
  readonly action: string;
  /** The policy that matched (the reason for a DENY, or the grant of an ALLOW). */
  readonly policy?: string;
}

const asBodies = (value: unknown): Body[] => (Array.isArray(value) ? (value as Body[]) : []);

function inCidr(ip: string, range: Body): boolean {
  const prefix = String(range.addressPrefix ?? '');
  const length = Number((range.prefixLen as { value?: number } | undefined)?.value ?? 0);
  const family = isIP(prefix) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(ip) === 0 || isIP(prefix) === 0 || (isIP(ip) === 6) !== (family === 'ipv6')) return false;
  const list = new BlockList();
  list.addSubnet(prefix, length, family);
  return list.check(ip, family);
}

function valueMatches(matcher: Body, value: unknown): boolean {
  if (matcher.presentMatch !== undefined) return (value !== undefined) === (matcher.presentMatch === true);
  if (matcher.stringMatch)
    return typeof value === 'string' && stringMatches(matcher.stringMatch as Body, value);
  if (matcher.boolMatch !== undefined) return value === matcher.boolMatch;
  if (matcher.listMatch) {
    const oneOf = (matcher.listMatch as Body).oneOf as Body | undefined;
    return Array.isArray(value) && oneOf !== undefined && value.some((item) => valueMatches(oneOf, item));
  }
  return false;
}

function metadataMatches(matcher: Body, input: RbacInput): boolean {
  let value: unknown = input.metadata[String(matcher.filter)];
  for (const segment of asBodies(matcher.path)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      value = undefined;
      break;
    }
    value = (value as Record<string, unknown>)[String(segment.key)];
  }
  const result = valueMatches((matcher.value ?? {}) as Body, value);
  return matcher.invert === true ? !result : result;
}

function requestHeaderMatches(matcher: Body, input: RbacInput): boolean {
  return input.headers !== undefined && headerMatches(matcher, input.headers);
}

function pathMatches(matcher: Body, input: RbacInput): boolean {
  const path = (matcher.path ?? undefined) as Body | undefined;
  return input.path !== undefined && path !== undefined && stringMatches(path, input.path);
}

/** True when an Envoy RBAC Permission matches. */
export function permissionMatches(permission: Body, input: RbacInput): boolean {
  if (permission.any === true) return true;
  if (permission.andRules)
    return asBodies((permission.andRules as Body).rules).every((p) => permissionMatches(p, input));
  if (permission.orRules)
    return asBodies((permission.orRules as Body).rules).some((p) => permissionMatches(p, input));
  if (permission.notRule) return !permissionMatches(permission.notRule as Body, input);
  if (permission.header) return requestHeaderMatches(permission.header as Body, input);
  if (permission.urlPath) return pathMatches(permission.urlPath as Body, input);
  if (permission.destinationIp) return inCidr(input.destinationIp, permission.destinationIp as Body);
  if (permission.destinationPort !== undefined)
    return Number(permission.destinationPort) === input.destinationPort;
  if (permission.requestedServerName) return stringMatches(permission.requestedServerName as Body, input.sni);
  if (permission.metadata) return metadataMatches(permission.metadata as Body, input);
  return false;
}

/** True when an Envoy RBAC Principal matches. */
export function principalMatches(principal: Body, input: RbacInput): boolean {
  if (principal.any === true) return true;
  if (principal.andIds)
    return asBodies((principal.andIds as Body).ids).every((p) => principalMatches(p, input));
  if (principal.orIds) return asBodies((principal.orIds as Body).ids).some((p) => principalMatches(p, input));
  if (principal.notId) return !principalMatches(principal.notId as Body, input);
  if (principal.authenticated) {
    if (!input.authenticated) return false;
    const name = (principal.authenticated as Body).principalName as Body | undefined;
    return name === undefined || stringMatches(name, input.peerPrincipal ?? '');
  }
  if (principal.directRemoteIp) return inCidr(input.sourceIp, principal.directRemoteIp as Body);
  if (principal.sourceIp) return inCidr(input.sourceIp, principal.sourceIp as Body);
  if (principal.remoteIp) return inCidr(input.remoteIp, principal.remoteIp as Body);
  if (principal.header) return requestHeaderMatches(principal.header as Body, input);
  if (principal.urlPath) return pathMatches(principal.urlPath as Body, input);
  if (principal.metadata) return metadataMatches(principal.metadata as Body, input);
  return false;
}

/** The decision of one RBAC filter config (`{ rules: { action, policies } }`). */
export function evaluateRbac(config: Body, input: RbacInput): RbacDecision {
  const rules = (config.rules ?? {}) as Body;
  const action = String(rules.action ?? 'ALLOW');
  const policies = Object.entries((rules.policies ?? {}) as Record<string, Body>);
  const matched = policies.find(
    ([, policy]) =>
      asBodies(policy.permissions).some((p) => permissionMatches(p, input)) &&
      asBodies(policy.principals).some((p) => principalMatches(p, input)),
  )?.[0];
  if (action === 'LOG') return { allowed: true, action, ...(matched ? { policy: matched } : {}) };
  if (action === 'DENY')
    return { allowed: matched === undefined, action, ...(matched ? { policy: matched } : {}) };
  return { allowed: matched !== undefined, action, ...(matched ? { policy: matched } : {}) };
}
