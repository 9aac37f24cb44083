/**
 * RequestAuthentication: schema and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/security/request_authentication/
 */
import type { RequestAuthenticationSpec } from '../resources/security-types.ts';
import { headerNameError, plainHeaderNameError, reportIf } from '../schema/checks.ts';
import type { Reporter } from '../schema/reporter.ts';
import { array, boolean, duration, object, string } from '../schema/schema.ts';
import { checkTargetRefNamespaces, labelSelector, policyTargetReference } from './common-schemas.ts';
import { type KindDefinition, SECURITY_GROUP, SECURITY_VERSIONS } from './kind-definition.ts';

const jwtRule = object(
  {
    issuer: string({ nonEmpty: true }),
    audiences: array(string({ nonEmpty: true })),
    jwksUri: string({ check: reportIf(jwksUriError) }),
    jwks: string({ check: reportIf(jwksError) }),
    fromHeaders: array(
      object(
        { name: string({ nonEmpty: true, check: reportIf(headerNameError) }), prefix: string() },
        { required: ['name'] },
      ),
    ),
    fromParams: array(string({ nonEmpty: true })),
    fromCookies: array(string({ nonEmpty: true })),
    outputPayloadToHeader: string({ check: reportIf(headerNameError) }),
    forwardOriginalToken: boolean(),
    outputClaimToHeaders: array(
      object(
        {
          header: string({ nonEmpty: true, check: reportIf(plainHeaderNameError) }),
          claim: string({ nonEmpty: true }),
        },
        { required: ['header', 'claim'] },
      ),
    ),
    timeout: duration({ minMs: 1 }),
    spaceDelimitedClaims: array(string({ nonEmpty: true })),
    presence: string({ ignored: 'presence is not supported' }),
  },
  {
    exclusive: [['jwksUri', 'jwks']],
    rule: 'issuer or jwksUri is set',
    check: (rule, path, report) => {
      if (rule.issuer === undefined && rule.jwksUri === undefined)
        report.error(path, 'one of issuer, jwksUri must be set');
    },
  },
);

const spec = object(
  {
    selector: labelSelector,
    targetRef: policyTargetReference,
    targetRefs: array(policyTargetReference),
    jwtRules: array(jwtRule),
  },
  { exclusive: [['selector', 'targetRef', 'targetRefs']] },
);

function jwksUriError(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' || url.protocol === 'https:'
      ? undefined
      : `jwksUri ${JSON.stringify(uri)} must be http or https`;
  } catch {
    return `jwksUri ${JSON.stringify(uri)} is not a URL`;
  }
}

function jwksError(jwks: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(jwks);
    const keys =
      typeof parsed === 'object' && parsed !== null ? (parsed as { keys?: unknown }).keys : undefined;
    return Array.isArray(keys) ? undefined : 'jwks must be a JSON Web Key Set with a "keys" list';
  } catch {
    return 'jwks is not valid JSON';
  }
}

function semantic(
  ra: RequestAuthenticationSpec,
  { report, namespace }: { report: Reporter; namespace: string },
): void {
  checkTargetRefNamespaces(ra, namespace, report);
  const issuers = new Map<string, number>();
  ra.jwtRules?.forEach((rule, i) => {
    if (rule.issuer === undefined) return;
    const first = issuers.get(rule.issuer);
    if (first !== undefined)
      report.error(
        `spec.jwtRules[${i}].issuer`,
        `issuer ${JSON.stringify(rule.issuer)} is already used by jwtRules[${first}]`,
      );
    issuers.set(rule.issuer, i);
  });
}

export const requestAuthenticationKind: KindDefinition<'RequestAuthentication'> = {
  kind: 'RequestAuthentication',
  group: SECURITY_GROUP,
  versions: SECURITY_VERSIONS,
  spec,
  semantic,
};
