/**
 * `envoy.filters.http.jwt_authn` configuration
 * (envoy/extensions/filters/http/jwt_authn/v3/config.proto), compiled at
 * config time: providers (issuer, audiences, inline or remote JWKS, where
 * the token is read from, forward, payloadInMetadata with space-delimited
 * claims), and the rules that say which requirement applies to a path.
 *
 * Requirements: `providerName`, `requiresAny` / `requiresAll` of
 * requirements, `allowMissing`, `allowMissingOrFailed`.
 */
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import {
  at,
  type Body,
  isBody,
  type ProblemList,
  readBodies,
  readBody,
  readBool,
  readDurationMs,
  readString,
  readStrings,
} from '../config/problems.ts';

export type JwksSource =
  | { readonly kind: 'local'; readonly keys: ReturnType<typeof createLocalJWKSet> }
  | {
      readonly kind: 'remote';
      readonly uri: string;
      readonly cluster: string;
      readonly timeoutMs: number;
      readonly cacheMs: number;
    };

export interface JwtProviderConfig {
  readonly name: string;
  readonly issuer: string | undefined;
  readonly audiences: readonly string[];
  readonly jwks: JwksSource;
  /** Headers the token is read from, with the value prefix to strip (default Authorization: Bearer). */
  readonly fromHeaders: readonly { readonly name: string; readonly prefix: string }[];
  /** Query parameters the token is read from (default access_token when no header is listed). */
  readonly fromParams: readonly string[];
  /** Keep the token in the request sent upstream. */
  readonly forward: boolean;
  /** Metadata key of the verified payload (Istio: `payload`). */
  readonly payloadInMetadata: string | undefined;
  /** Claims whose space-separated string value is given to RBAC as a list. */
  readonly spaceDelimitedClaims: readonly string[];
}

export type JwtRequirement =
  | { readonly kind: 'provider'; readonly provider: string }
  | { readonly kind: 'any' | 'all'; readonly requirements: readonly JwtRequirement[] }
  | { readonly kind: 'allowMissing' | 'allowMissingOrFailed' };

export interface JwtRuleConfig {
  readonly prefix: string | undefined;
  readonly path: string | undefined;
  readonly requirement: JwtRequirement | undefined;
}

export interface JwtAuthnConfig {
  readonly providers: ReadonlyMap<string, JwtProviderConfig>;
  readonly rules: readonly JwtRuleConfig[];
  readonly bypassCorsPreflight: boolean;
}

function compileJwks(body: Body, path: string, problems: ProblemList): JwksSource | undefined {
  const local = readBody(body, 'localJwks', path, problems);
  if (local) {
    const text = readString(local, 'inlineString', at(path, 'localJwks'), problems);
    if (text === undefined) {
      problems.add(at(path, 'localJwks.inlineString'), 'is required (files are not read)');
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as JSONWebKeySet;
      return { kind: 'local', keys: createLocalJWKSet(parsed) };
    } catch (error) {
      problems.add(at(path, 'localJwks.inlineString'), `is not a JWKS: ${(error as Error).message}`);
      return undefined;
    }
  }
  const remote = readBody(body, 'remoteJwks', path, problems);
  if (remote) {
    const rPath = at(path, 'remoteJwks');
    const httpUri = readBody(remote, 'httpUri', rPath, problems) ?? {};
    const uri = readString(httpUri, 'uri', at(rPath, 'httpUri'), problems) ?? '';
    const cluster = readString(httpUri, 'cluster', at(rPath, 'httpUri'), problems) ?? '';
    if (!URL.canParse(uri)) problems.add(at(rPath, 'httpUri.uri'), `must be a URL, got "${uri}"`);
    if (!cluster) problems.add(at(rPath, 'httpUri.cluster'), 'is required');
    return {
      kind: 'remote',
      uri,
      cluster,
      timeoutMs: readDurationMs(httpUri, 'timeout', at(rPath, 'httpUri'), problems) ?? 5000,
      cacheMs: readDurationMs(remote, 'cacheDuration', rPath, problems) ?? 300_000,
    };
  }
  problems.add(path, 'one of localJwks or remoteJwks is required');
  return undefined;
}

function compileProvider(
  name: string,
  body: Body,
  path: string,
  problems: ProblemList,
): JwtProviderConfig | undefined {
  const jwks = compileJwks(body, path, problems);
  const fromHeaders = readBodies(body, 'fromHeaders', path, problems).map(({ body: h, path: hPath }) => ({
    name: (readString(h, 'name', hPath, problems) ?? '').toLowerCase(),
    prefix: readString(h, 'valuePrefix', hPath, problems) ?? '',
  }));
  const fromParams = readStrings(body, 'fromParams', path, problems);
  if (Array.isArray(body.fromCookies) && body.fromCookies.length > 0)
    problems.add(at(path, 'fromCookies'), 'is not supported yet');
  if (body.forwardPayloadHeader) problems.add(at(path, 'forwardPayloadHeader'), 'is not supported yet');
  if (Array.isArray(body.claimToHeaders) && body.claimToHeaders.length > 0)
    problems.add(at(path, 'claimToHeaders'), 'is not supported yet');
  const normalize = readBody(body, 'normalizePayloadInMetadata', path, problems) ?? {};
  if (!jwks) return undefined;
  const defaults = fromHeaders.length === 0 && fromParams.length === 0;
  return {
    name,
    issuer: readString(body, 'issuer', path, problems) || undefined,
    audiences: readStrings(body, 'audiences', path, problems),
    jwks,
    fromHeaders: defaults ? [{ name: 'authorization', prefix: 'Bearer ' }] : fromHeaders,
    fromParams: defaults ? ['access_token'] : fromParams,
    forward: readBool(body, 'forward', path, problems) ?? false,
    payloadInMetadata: readString(body, 'payloadInMetadata', path, problems) || undefined,
    spaceDelimitedClaims: readStrings(
      normalize,
      'spaceDelimitedClaims',
      at(path, 'normalizePayloadInMetadata'),
      problems,
    ),
  };
}

function compileRequirement(
  body: Body,
  path: string,
  providers: ReadonlyMap<string, unknown>,
  problems: ProblemList,
): JwtRequirement | undefined {
  const provider = readString(body, 'providerName', path, problems);
  if (provider !== undefined) {
    if (!providers.has(provider)) problems.add(at(path, 'providerName'), `unknown provider ${provider}`);
    return { kind: 'provider', provider };
  }
  for (const [field, kind] of [
    ['requiresAny', 'any'],
    ['requiresAll', 'all'],
  ] as const) {
    const list = readBody(body, field, path, problems);
    if (!list) continue;
    const requirements = readBodies(list, 'requirements', at(path, field), problems)
      .map(({ body: r, path: rPath }) => compileRequirement(r, rPath, providers, problems))
      .filter((r): r is JwtRequirement => r !== undefined);
    return { kind, requirements };
  }
  if (isBody(body.allowMissing)) return { kind: 'allowMissing' };
  if (isBody(body.allowMissingOrFailed)) return { kind: 'allowMissingOrFailed' };
  problems.add(path, 'unsupported requirement');
  return undefined;
}

/** Compiles a JwtAuthentication body. */
export function compileJwtAuthn(body: Body, path: string, problems: ProblemList): JwtAuthnConfig {
  const providers = new Map<string, JwtProviderConfig>();
  const providerBodies = readBody(body, 'providers', path, problems) ?? {};
  for (const [name, value] of Object.entries(providerBodies)) {
    const pPath = `${at(path, 'providers')}['${name}']`;
    if (!isBody(value)) {
      problems.add(pPath, 'must be an object');
      continue;
    }
    const provider = compileProvider(name, value, pPath, problems);
    if (provider) providers.set(name, provider);
  }
  const rules = readBodies(body, 'rules', path, problems).map(({ body: rule, path: rPath }) => {
    const match = readBody(rule, 'match', rPath, problems) ?? {};
    const prefix = readString(match, 'prefix', at(rPath, 'match'), problems);
    const exact = readString(match, 'path', at(rPath, 'match'), problems);
    if (prefix === undefined && exact === undefined)
      problems.add(at(rPath, 'match'), 'only prefix and path matches are supported');
    const requires = readBody(rule, 'requires', rPath, problems);
    return {
      prefix,
      path: exact,
      requirement: requires
        ? compileRequirement(requires, at(rPath, 'requires'), providers, problems)
        : undefined,
    };
  });
  if (body.requirementMap) problems.add(at(path, 'requirementMap'), 'is not supported yet');
  return {
    providers,
    rules,
    bypassCorsPreflight: readBool(body, 'bypassCorsPreflight', path, problems) ?? false,
  };
}
