/**
 * `envoy.filters.http.jwt_authn` at run time: finds the token where the
 * provider says (header with prefix, or query parameter), verifies it with
 * `jose` (signature against the provider's JWKS, `exp`/`nbf`, issuer,
 * audiences), and on success puts the payload in the stream's dynamic
 * metadata for RBAC (`request.auth.*`). A present but invalid token is 401
 * `Jwt verification fails` under any requirement that does not allow
 * failures; a missing token passes where `allowMissing` says so, else 401
 * `Jwt is missing`.
 *
 * Remote JWKS are fetched through the named cluster (its pool and TLS), and
 * cached for the provider's `cacheDuration`. Tokens are never logged.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import type { HttpFilter, HttpStream } from '../http/http-stream.ts';
import type { ClusterManager } from '../upstream/cluster-manager.ts';
import { UpstreamError } from '../upstream/upstream-errors.ts';
import type { JwtAuthnConfig, JwtProviderConfig, JwtRequirement } from './jwt-authn-config.ts';
import { dynamicMetadata } from './rbac-filter.ts';

export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';

type KeySet = ReturnType<typeof createLocalJWKSet>;
type Outcome = 'ok' | 'missing' | 'failed';

interface CachedJwks {
  keys: Promise<KeySet>;
  expires: number;
}

/** Reads the token a provider accepts from the request, if any. */
function extractToken(
  provider: JwtProviderConfig,
  stream: HttpStream,
): { token: string; header?: string } | undefined {
  for (const { name, prefix } of provider.fromHeaders) {
    const raw = stream.req.headers[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined) continue;
    if (prefix && !value.toLowerCase().startsWith(prefix.toLowerCase())) continue;
    return { token: value.slice(prefix.length).trim(), header: name };
  }
  if (provider.fromParams.length > 0) {
    const query = stream.path.indexOf('?');
    if (query >= 0) {
      const params = new URLSearchParams(stream.path.slice(query + 1));
      for (const name of provider.fromParams) {
        const value = params.get(name);
        if (value) return { token: value };
      }
    }
  }
  return undefined;
}

function normalizePayload(provider: JwtProviderConfig, payload: JWTPayload): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload };
  for (const claim of provider.spaceDelimitedClaims) {
    const value = out[claim];
    if (typeof value === 'string') out[claim] = value.split(' ').filter((s) => s.length > 0);
  }
  return out;
}

/** Fetches a JWKS document through `clusterName`'s connection pool. */
function fetchJwks(clusters: ClusterManager, provider: JwtProviderConfig): Promise<KeySet> {
  const source = provider.jwks;
  if (source.kind !== 'remote') return Promise.resolve(source.keys);
  return new Promise((resolve, reject) => {
    const cluster = clusters.get(source.cluster);
    const host = cluster?.hostSet.pick(undefined);
    if (!cluster || !host) {
      reject(new Error(`JWKS cluster ${source.cluster} has no healthy host`));
      return;
    }
    const url = new URL(source.uri);
    const chunks: Buffer[] = [];
    let status = 0;
    const timer = setTimeout(() => {
      control.abort(new UpstreamError('TIMEOUT', 'JWKS fetch timeout'));
      reject(new Error(`JWKS fetch from ${source.uri} timed out`));
    }, source.timeoutMs);
    timer.unref();
    const control = cluster.pool(host).send(
      { method: 'GET', path: `${url.pathname}${url.search}`, authority: url.host, headers: {}, body: null },
      {
        onHeaders: (s) => {
          status = s;
        },
        onData: (chunk) => {
          chunks.push(chunk);
          return true;
        },
        onEnd: () => {
          clearTimeout(timer);
          if (status !== 200) {
            reject(new Error(`JWKS fetch from ${source.uri} answered ${status}`));
            return;
          }
          try {
            resolve(createLocalJWKSet(JSON.parse(Buffer.concat(chunks).toString('utf8')) as JSONWebKeySet));
          } catch (error) {
            reject(new Error(`JWKS from ${source.uri} is not a key set: ${(error as Error).message}`));
          }
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(new Error(`JWKS fetch from ${source.uri} failed: ${error.message}`));
        },
      },
    );
  });
}

/** The jwt_authn HTTP filter for one compiled config. */
export function createJwtAuthnFilter(config: JwtAuthnConfig): HttpFilter {
  const cache = new Map<string, CachedJwks>();

  const keysFor = (provider: JwtProviderConfig, stream: HttpStream): Promise<KeySet> => {
    if (provider.jwks.kind === 'local') return Promise.resolve(provider.jwks.keys);
    const now = stream.hcm.services.now();
    const cached = cache.get(provider.name);
    if (cached && cached.expires > now) return cached.keys;
    const keys = fetchJwks(stream.hcm.services.clusters, provider);
    const entry: CachedJwks = { keys, expires: now + provider.jwks.cacheMs };
    cache.set(provider.name, entry);
    // A failed fetch is not cached: the next request tries again.
    keys.catch(() => {
      if (cache.get(provider.name) === entry) cache.delete(provider.name);
    });
    return keys;
  };

  const verify = async (provider: JwtProviderConfig, stream: HttpStream): Promise<Outcome> => {
    const found = extractToken(provider, stream);
    if (!found) return 'missing';
    try {
      const keys = await keysFor(provider, stream);
      const { payload } = await jwtVerify(found.token, keys, {
        ...(provider.issuer ? { issuer: provider.issuer } : {}),
        ...(provider.audiences.length > 0 ? { audience: [...provider.audiences] } : {}),
        currentDate: new Date(stream.hcm.services.now()),
      });
      if (provider.payloadInMetadata) {
        const metadata = dynamicMetadata(stream);
        const mine = (metadata[JWT_AUTHN_FILTER] ?? {}) as Record<string, unknown>;
        mine[provider.payloadInMetadata] = normalizePayload(provider, payload);
        metadata[JWT_AUTHN_FILTER] = mine;
      }
      if (!provider.forward && found.header) delete stream.req.headers[found.header];
      return 'ok';
    } catch {
      return 'failed';
    }
  };

  const check = async (requirement: JwtRequirement, stream: HttpStream): Promise<Outcome | 'allowed'> => {
    switch (requirement.kind) {
      case 'provider': {
        const provider = config.providers.get(requirement.provider);
        return provider ? verify(provider, stream) : 'failed';
      }
      case 'allowMissing':
      case 'allowMissingOrFailed':
        return 'allowed';
      case 'all': {
        for (const r of requirement.requirements) {
          const outcome = await check(r, stream);
          if (outcome !== 'ok' && outcome !== 'allowed') return outcome;
        }
        return 'ok';
      }
      case 'any': {
        const outcomes = await Promise.all(requirement.requirements.map((r) => check(r, stream)));
        if (outcomes.includes('ok')) return 'ok';
        const failed = outcomes.includes('failed');
        const allowsFailure = requirement.requirements.some((r) => r.kind === 'allowMissingOrFailed');
        const allowsMissing = requirement.requirements.some(
          (r) => r.kind === 'allowMissing' || r.kind === 'allowMissingOrFailed',
        );
        if (failed) return allowsFailure ? 'allowed' : 'failed';
        return allowsMissing ? 'allowed' : 'missing';
      }
    }
  };

  return {
    name: 'jwt_authn',
    onRequest(stream) {
      if (
        config.bypassCorsPreflight &&
        stream.method === 'OPTIONS' &&
        stream.req.headers['access-control-request-method'] !== undefined
      )
        return 'continue';
      const pathOnly = stream.path.split('?', 1)[0] ?? '/';
      const rule = config.rules.find((r) =>
        r.path !== undefined ? pathOnly === r.path : pathOnly.startsWith(r.prefix ?? '/'),
      );
      if (!rule?.requirement) return 'continue';
      check(rule.requirement, stream).then(
        (outcome) => {
          if (stream.done) return;
          if (outcome === 'ok' || outcome === 'allowed') stream.continueDecoding();
          else
            stream.localReply(
              401,
              outcome === 'missing' ? 'Jwt is missing' : 'Jwt verification fails',
              undefined,
              {
                'www-authenticate': `Bearer realm="http://${stream.authority}${pathOnly}", error="invalid_token"`,
              },
            );
        },
        () => stream.localReply(401, 'Jwt verification fails'),
      );
      return 'stop';
    },
  };
}
