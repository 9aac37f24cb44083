/**
 * RequestAuthentication -> `envoy.filters.http.jwt_authn` on the inbound
 * HTTP chains of the selected workloads (and gateways), as Istio generates
 * it: one provider per JWT rule (`origins-INDEX`), and one requirement for
 * every path, "any provider, or no token at all". A request with a token
 * that no provider validates gets 401; a request without a token passes
 * unauthenticated, and AuthorizationPolicy `requestPrincipals` decides
 * whether that is allowed.
 *
 * A validated token's payload lands in the filter's dynamic metadata under
 * `payload`, where the RBAC filters read `request.auth.*` (rbac-rules.ts).
 *
 * @see https://istio.io/latest/docs/reference/config/security/request_authentication/
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/jwt_authn/v3/config.proto
 */
import type { JWTRule, RequestAuthentication } from '@weft/config';
import type { TranslateContext } from '../context.ts';
import { FILTER_NAMES, JWT_AUTHENTICATION } from '../envoy/type-names.ts';
import { type Body, duration, parseDurationMs, typed } from '../envoy/values.ts';
import { clusterName } from '../naming.ts';
import { JWT_PAYLOAD_KEY } from './rbac-rules.ts';
import { workloadPolicies } from './workload-policies.ts';

/** Istio's default JWKS fetch timeout. */
const DEFAULT_JWKS_TIMEOUT_MS = 5000;
/**
 * Claims whose space-separated string value the metadata carries as a list
 * (OAuth `scope`, and `permission`), as Istio normalises them, so that
 * `request.auth.claims[scope]` matches one scope of `"read write"`.
 */
export const DEFAULT_SPACE_DELIMITED_CLAIMS: readonly string[] = ['scope', 'permission'];
/** How long a fetched JWKS is cached (Envoy's default, written out). */
const JWKS_CACHE_MS = 5 * 60_000;

/** The RequestAuthentications that apply to the proxy's workload. */
export function workloadRequestAuthentications(ctx: TranslateContext): RequestAuthentication[] {
  return workloadPolicies(ctx, ctx.push.requestAuthentications);
}

/**
 * Where a remote JWKS is fetched from: the outbound cluster of the URI's
 * host and port. A host the mesh does not know still gets the cluster name
 * (the proxy cannot reach it without a ServiceEntry) and a warning.
 */
function jwksCluster(ctx: TranslateContext, uri: URL, where: string): string {
  const port = uri.port ? Number(uri.port) : uri.protocol === 'https:' ? 443 : 80;
  const host = uri.hostname;
  const service = ctx.push.model.service(host);
  if (!service?.ports.some((p) => p.number === port))
    ctx.warn(
      `${where}: jwksUri host ${host}:${port} is not a service in the mesh; add a ServiceEntry for it`,
    );
  return clusterName('outbound', port, '', host);
}

function provider(ctx: TranslateContext, rule: JWTRule, where: string): Body | undefined {
  const out: Body = {};
  if (rule.issuer) out.issuer = rule.issuer;
  if (rule.audiences?.length) out.audiences = [...rule.audiences];
  if (rule.jwks) {
    out.localJwks = { inlineString: rule.jwks };
  } else if (rule.jwksUri) {
    let uri: URL;
    try {
      uri = new URL(rule.jwksUri);
    } catch {
      ctx.warn(`${where}: jwksUri "${rule.jwksUri}" is not a URL; rule skipped`);
      return undefined;
    }
    const timeout = rule.timeout === undefined ? undefined : parseDurationMs(rule.timeout);
    if (rule.timeout !== undefined && timeout === undefined)
      ctx.warn(`${where}: timeout "${rule.timeout}" is not a duration; using 5s`);
    out.remoteJwks = {
      httpUri: {
        uri: rule.jwksUri,
        cluster: jwksCluster(ctx, uri, where),
        timeout: duration(timeout ?? DEFAULT_JWKS_TIMEOUT_MS),
      },
      cacheDuration: duration(JWKS_CACHE_MS),
    };
  } else {
    ctx.warn(`${where}: neither jwks nor jwksUri; rule skipped (Istio would discover the JWKS via OIDC)`);
    return undefined;
  }
  if (rule.fromHeaders?.length)
    out.fromHeaders = rule.fromHeaders.map((h) =>
      h.prefix ? { name: h.name, valuePrefix: h.prefix } : { name: h.name },
    );
  if (rule.fromParams?.length) out.fromParams = [...rule.fromParams];
  if (rule.fromCookies?.length) out.fromCookies = [...rule.fromCookies];
  if (rule.forwardOriginalToken) out.forward = true;
  if (rule.outputPayloadToHeader) out.forwardPayloadHeader = rule.outputPayloadToHeader;
  if (rule.outputClaimToHeaders?.length)
    out.claimToHeaders = rule.outputClaimToHeaders.map((c) => ({ headerName: c.header, claimName: c.claim }));
  out.payloadInMetadata = JWT_PAYLOAD_KEY;
  out.normalizePayloadInMetadata = {
    spaceDelimitedClaims: [
      ...new Set([...DEFAULT_SPACE_DELIMITED_CLAIMS, ...(rule.spaceDelimitedClaims ?? [])]),
    ],
  };
  return out;
}

/**
 * The jwt_authn filter for the proxy's workload, or undefined when no
 * RequestAuthentication (with a usable rule) selects it.
 */
export function jwtAuthnFilter(ctx: TranslateContext): Body | undefined {
  const providers: Record<string, Body> = {};
  let index = 0;
  for (const policy of workloadRequestAuthentications(ctx)) {
    (policy.spec.jwtRules ?? []).forEach((rule, i) => {
      const where = `RequestAuthentication ${policy.metadata.namespace}/${policy.metadata.name} jwtRules[${i}]`;
      const built = provider(ctx, rule, where);
      if (!built) return;
      providers[`origins-${index}`] = built;
      index += 1;
    });
  }
  const names = Object.keys(providers);
  if (names.length === 0) return undefined;
  const requirements: Body[] = [...names.map((providerName) => ({ providerName })), { allowMissing: {} }];
  return {
    name: FILTER_NAMES.jwtAuthn,
    typedConfig: typed(JWT_AUTHENTICATION, {
      providers,
      rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements } } }],
      bypassCorsPreflight: true,
    }),
  };
}
