/**
 * The CORS filter (envoy.filters.http.cors): answers preflight requests from
 * allowed origins and adds `access-control-*` headers to actual responses.
 * The policy comes from the route's or virtual host's typedPerFilterConfig.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { CorsConfig } from '../config/http-filter-config.ts';
import type { HttpFilter, HttpStream } from '../http/http-stream.ts';

function allowedOrigin(stream: HttpStream): { policy: CorsConfig; origin: string } | undefined {
  const policy = stream.route?.filters.cors;
  const origin = stream.req.headers.origin;
  if (!policy || typeof origin !== 'string') return undefined;
  return policy.allowOrigin.some((test) => test(origin)) ? { policy, origin } : undefined;
}

export const corsFilter: HttpFilter = {
  name: 'cors',
  onRequest(stream) {
    const allowed = allowedOrigin(stream);
    if (!allowed) return 'continue';
    const { policy, origin } = allowed;
    const headers: OutgoingHttpHeaders = { 'access-control-allow-origin': origin };
    if (policy.allowCredentials) headers['access-control-allow-credentials'] = 'true';
    const preflight =
      stream.method === 'OPTIONS' && stream.req.headers['access-control-request-method'] !== undefined;
    if (!preflight) {
      if (policy.exposeHeaders) headers['access-control-expose-headers'] = policy.exposeHeaders;
      stream.extraResponseHeaders = { ...stream.extraResponseHeaders, ...headers };
      return 'continue';
    }
    if (policy.allowMethods) headers['access-control-allow-methods'] = policy.allowMethods;
    if (policy.allowHeaders) headers['access-control-allow-headers'] = policy.allowHeaders;
    if (policy.maxAge) headers['access-control-max-age'] = policy.maxAge;
    stream.localReply(200, undefined, undefined, headers);
    return 'stop';
  },
};
