/**
 * The HTTP connection manager's security filters, compiled at config time
 * and turned into runtime HttpFilters: `envoy.filters.http.rbac`,
 * `envoy.filters.http.jwt_authn`, and the HCM's own
 * `forwardClientCertDetails` (x-forwarded-client-cert) handling, which runs
 * first so no forged XFCC ever reaches a later filter or the upstream.
 */
import { at, type Body, type ProblemList, readBody, readBool, readEnum } from '../config/problems.ts';
import { compileJwtAuthn, type JwtAuthnConfig } from '../filters/jwt-authn-config.ts';
import { createJwtAuthnFilter } from '../filters/jwt-authn-filter.ts';
import { compileRbac, type RbacConfig } from '../filters/rbac-config.ts';
import { createRbacFilter } from '../filters/rbac-filter.ts';
import type { HttpFilter } from '../http/http-stream.ts';
import { createXfccFilter, type XfccConfig } from './xfcc-filter.ts';

const HTTP_RBAC_TYPE = 'envoy.extensions.filters.http.rbac.v3.RBAC';
const HTTP_RBAC_NAME = 'envoy.filters.http.rbac';
const JWT_TYPE = 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
const JWT_NAME = 'envoy.filters.http.jwt_authn';

/** A compiled security filter in an HCM's filter list. */
export type SecurityFilterConfig =
  | { readonly kind: 'rbac'; readonly rbac: RbacConfig | undefined }
  | { readonly kind: 'jwt_authn'; readonly jwt: JwtAuthnConfig }
  | { readonly kind: 'xfcc'; readonly xfcc: XfccConfig };

/**
 * Compiles the HTTP filter `key` (type name or filter name) if it is a
 * security filter; undefined when it is not one. Shadow rules are accepted
 * and never enforced (Envoy only records their result).
 */
export function compileSecurityHttpFilter(
  key: string,
  config: Body | undefined,
  path: string,
  problems: ProblemList,
): SecurityFilterConfig | undefined {
  const body = config ?? {};
  const cfgPath = at(path, 'typedConfig');
  if (key === HTTP_RBAC_TYPE || key === HTTP_RBAC_NAME) {
    const shadow = readBody(body, 'shadowRules', cfgPath, problems);
    if (shadow) compileRbac({ rules: shadow }, at(cfgPath, 'shadowRules'), problems);
    return { kind: 'rbac', rbac: compileRbac(body, cfgPath, problems) };
  }
  if (key === JWT_TYPE || key === JWT_NAME)
    return { kind: 'jwt_authn', jwt: compileJwtAuthn(body, cfgPath, problems) };
  return undefined;
}

const XFCC_MODES = [
  'SANITIZE',
  'FORWARD_ONLY',
  'APPEND_FORWARD',
  'SANITIZE_SET',
  'ALWAYS_FORWARD_ONLY',
] as const;

/** The HCM's `forwardClientCertDetails` / `setCurrentClientCertDetails` as a filter (default SANITIZE). */
export function compileXfcc(hcm: Body, path: string, problems: ProblemList): SecurityFilterConfig {
  const mode =
    readEnum(hcm, 'forwardClientCertDetails', path, problems, XFCC_MODES, XFCC_MODES) ?? 'SANITIZE';
  const set = readBody(hcm, 'setCurrentClientCertDetails', path, problems) ?? {};
  const setPath = at(path, 'setCurrentClientCertDetails');
  const subject = readBody(set, 'subject', setPath, problems);
  return {
    kind: 'xfcc',
    xfcc: {
      mode,
      subject: subject?.value === true,
      uri: readBool(set, 'uri', setPath, problems) ?? false,
      dns: readBool(set, 'dns', setPath, problems) ?? false,
    },
  };
}

/** The runtime filter of a compiled security filter. */
export function createSecurityFilter(config: SecurityFilterConfig): HttpFilter {
  if (config.kind === 'jwt_authn') return createJwtAuthnFilter(config.jwt);
  if (config.kind === 'xfcc') return createXfccFilter(config.xfcc);
  // An RBAC filter without rules allows everything (Envoy).
  return config.rbac ? createRbacFilter(config.rbac) : { name: 'rbac', onRequest: () => 'continue' };
}
