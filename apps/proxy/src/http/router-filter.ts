/**
 * The router filter (envoy.filters.http.router): the terminal filter. It
 * answers redirects and direct responses, and forwards everything else to
 * an upstream cluster: weighted cluster pick, circuit breaking, path and
 * host rewrites, header mutation, route and per-try timeouts, retries with
 * exponential backoff and full jitter, mirroring, and Envoy's local replies
 * and response flags for every failure.
 *
 * See Envoy's "HTTP routing", "Router filter" and "Retry semantics" docs.
 */
import { randomUUID } from 'node:crypto';
import type { HashPolicyConfig, RedirectAction } from '../config/route-action-config.ts';
import { hash32 } from '../upstream/hash.ts';
import { ForwardedRequest } from './forwarded-request.ts';
import type { HttpFilter, HttpStream } from './http-stream.ts';
import { headerValue } from './router.ts';

export const routerFilter: HttpFilter = {
  name: 'router',
  onRequest(stream) {
    const route = stream.route;
    if (!route) return 'stop';
    const action = route.action;
    if (action.kind === 'direct') {
      stream.localReply(action.status, action.body);
    } else if (action.kind === 'redirect') {
      stream.localReply(action.status, undefined, undefined, { location: redirectLocation(stream, action) });
    } else {
      new ForwardedRequest(stream, action).start();
    }
    return 'stop';
  },
};

/** Builds the Location of a redirect from the request and the RedirectAction. */
export function redirectLocation(stream: HttpStream, action: RedirectAction): string {
  const scheme = action.scheme ?? (stream.req.socket?.encrypted ? 'https' : 'http');
  const authority = stream.authority;
  const colon = authority.lastIndexOf(':');
  const hasPort = colon > 0 && !authority.endsWith(']');
  let host = action.host ?? (hasPort ? authority.slice(0, colon) : authority);
  let port = hasPort ? authority.slice(colon + 1) : '';
  if (action.port !== undefined) port = String(action.port);
  if (action.scheme && !action.port) port = '';
  if (port && !((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')))
    host = `${host}:${port}`;
  const q = stream.path.indexOf('?');
  let path = q < 0 ? stream.path : stream.path.slice(0, q);
  let query = q < 0 ? '' : stream.path.slice(q);
  if (action.path !== undefined) {
    const pq = action.path.indexOf('?');
    path = pq < 0 ? action.path : action.path.slice(0, pq);
    if (pq >= 0) query = action.path.slice(pq);
  } else if (action.prefixRewrite !== undefined && stream.route?.match.kind === 'prefix') {
    path = action.prefixRewrite + path.slice(stream.route.match.value.length);
  }
  if (action.stripQuery) query = '';
  return `${scheme}://${host}${path}${query}`;
}

/** The request's hash for ring hash / maglev from the route's hash policies, or undefined. */
export function requestHash(stream: HttpStream, policies: readonly HashPolicyConfig[]): number | undefined {
  let hash: number | undefined;
  for (const policy of policies) {
    let input: string | undefined;
    if (policy.kind === 'header') input = headerValue(stream.req.headers, policy.name);
    else if (policy.kind === 'sourceIp') input = stream.req.socket?.remoteAddress;
    else if (policy.kind === 'cookie')
      input = cookieValue(headerValue(stream.req.headers, 'cookie'), policy.name);
    else input = new URLSearchParams(stream.path.split('?')[1] ?? '').get(policy.name) ?? undefined;
    if (input === undefined) continue;
    const h = hash32(input);
    hash = hash === undefined ? h : (((hash << 1) | (hash >>> 31)) ^ h) >>> 0;
    if (policy.terminal) break;
  }
  return hash;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Headers sent upstream: the request's, minus pseudo and hop-by-hop headers, plus Envoy's. */
export function upstreamRequestHeaders(
  stream: HttpStream,
  hopByHop: ReadonlySet<string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const headers = stream.req.headers;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name.charCodeAt(0) === 58 /* : */ || name === 'host' || name === 'expect')
      continue;
    if (hopByHop.has(name)) {
      if (name === 'te' && value === 'trailers') out.te = value;
      continue;
    }
    out[name] = value;
  }
  out['x-forwarded-proto'] ??= stream.req.socket?.encrypted ? 'https' : 'http';
  const peer = stream.req.socket?.remoteAddress;
  if (stream.hcm.config.useRemoteAddress && peer) {
    const xff = out['x-forwarded-for'];
    out['x-forwarded-for'] =
      xff === undefined ? peer : `${Array.isArray(xff) ? xff.join(', ') : xff}, ${peer}`;
  }
  out['x-request-id'] ??= randomUUID();
  return out;
}
