/**
 * `envoy.filters.http.rbac`: decides each request with a compiled RBAC
 * config (rbac-config.ts) before it is routed upstream. A denial is a local
 * 403 `RBAC: access denied`; LOG (Istio's AUDIT) and shadow rules never
 * decide. The request's view (peer identity, addresses, headers, JWT
 * payload) is built once per request and shared by every RBAC filter.
 */
import type { HttpFilter, HttpStream } from '../http/http-stream.ts';
import { peerIdentityOf } from '../tls/tls-runtime.ts';
import { evaluateRbac, type RbacConfig, type RbacInput } from './rbac-config.ts';

const metadataByStream = new WeakMap<HttpStream, Record<string, unknown>>();
const inputByStream = new WeakMap<HttpStream, RbacInput>();

/** A stream's dynamic metadata by filter name (jwt_authn writes its payload here). */
export function dynamicMetadata(stream: HttpStream): Record<string, unknown> {
  let metadata = metadataByStream.get(stream);
  if (!metadata) {
    metadata = {};
    metadataByStream.set(stream, metadata);
  }
  return metadata;
}

function unmapped(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** What RBAC sees of `stream`: the verified peer, addresses, headers and path, metadata. */
export function rbacInputOf(stream: HttpStream): RbacInput {
  const cached = inputByStream.get(stream);
  if (cached) return cached;
  const socket = stream.req.socket as {
    remoteAddress?: string;
    localAddress?: string;
    localPort?: number;
  } | null;
  const peer = peerIdentityOf(socket);
  const sourceIp = unmapped(peer?.remoteAddress ?? socket?.remoteAddress);
  const headers = stream.req.headers;
  const query = stream.path.indexOf('?');
  const input: RbacInput = {
    peerPrincipal: peer?.principal,
    authenticated: peer?.authenticated === true,
    sourceIp,
    remoteIp: sourceIp,
    destinationIp: unmapped(peer?.localAddress ?? socket?.localAddress),
    destinationPort: peer?.localPort ?? socket?.localPort ?? 0,
    sni: peer?.sni ?? '',
    headers: (name) => {
      if (name === ':method') return stream.method;
      if (name === ':path') return stream.path;
      if (name === ':authority' || name === 'host') return stream.authority;
      const value = headers[name];
      return Array.isArray(value) ? value.join(',') : value;
    },
    path: query < 0 ? stream.path : stream.path.slice(0, query),
    metadata: dynamicMetadata(stream),
  };
  inputByStream.set(stream, input);
  return input;
}

/** The HTTP RBAC filter for one compiled config. */
export function createRbacFilter(config: RbacConfig): HttpFilter {
  return {
    name: 'rbac',
    onRequest(stream) {
      const decision = evaluateRbac(config, rbacInputOf(stream));
      if (decision.allowed || config.shadow) return 'continue';
      stream.localReply(403, 'RBAC: access denied');
      return 'stop';
    },
  };
}
