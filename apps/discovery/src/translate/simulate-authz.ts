/**
 * An inbound security simulator: pushes one connection (and request) from
 * a peer through a sidecar's generated `virtualInbound` the way Envoy would
 * (filter chain by destination port and TLS vs plaintext, the mTLS
 * handshake the chain's DownstreamTlsContext demands, network RBAC, then
 * for HTTP the jwt_authn and RBAC HTTP filters) and reports what happened.
 *
 * JWTs are not verified here: the caller says which token the request
 * carries (`jwt.payload`, as if its signature checked out against the
 * provider with that issuer, or `jwt.invalid`). Providers match by `iss`
 * and (when configured) `aud`; the token is read from its default place.
 */
import { LISTENER_TYPE_URL, type Resource, type TypeUrl } from '@weft/xds';
import type { Body } from './envoy/values.ts';
import { VIRTUAL_INBOUND } from './naming.ts';
import { evaluateRbac, type RbacInput } from './security/rbac-evaluator.ts';
import { JWT_AUTHN_FILTER, JWT_PAYLOAD_KEY } from './security/rbac-rules.ts';
import { stringMatches } from './simulate.ts';

/** The connection and request to simulate toward the proxy's own workload. */
export interface SimulatedInboundRequest {
  /** The workload port the connection was addressed to. */
  port: number;
  /**
   * The client's SPIFFE ID when it speaks mesh mTLS (presents a mesh
   * certificate); undefined = plaintext.
   */
  peerPrincipal?: string;
  /** The client speaks TLS without a client certificate (e.g. an app's own TLS). */
  tlsWithoutCertificate?: boolean;
  /** Default 127.0.0.1. */
  sourceIp?: string;
  /** The original client address (XFF); default sourceIp. */
  remoteIp?: string;
  /** Default 127.0.0.1. */
  destinationIp?: string;
  sni?: string;
  /** The HTTP request; leave out for a raw TCP connection. */
  http?: { method?: string; path?: string; authority?: string; headers?: Record<string, string> };
  /** A bearer token the request carries. */
  jwt?: { payload: Record<string, unknown> } | { invalid: true };
}

/** How far the connection got. */
export type InboundOutcome =
  /** Delivered to the application (`cluster`). */
  | 'allowed'
  /** RBAC said no: HTTP 403 `RBAC: access denied`, or the TCP connection closed. */
  | 'denied'
  /** jwt_authn rejected the token: HTTP 401. */
  | 'unauthenticated'
  /** The mTLS handshake failed (no client certificate, or one the chain does not accept). */
  | 'handshake-failed'
  /** Dropped: no chain, or a chain that leads nowhere (BlackHoleCluster). */
  | 'closed';

export interface InboundSimulation {
  outcome: InboundOutcome;
  /** HTTP status the client sees (HTTP requests only). */
  status?: number;
  filterChain?: string;
  /** `tls` or `raw_buffer`: how the chosen chain reads the connection. */
  transport?: 'tls' | 'raw_buffer';
  /** The RBAC policy that decided (denying DENY policy, or granting ALLOW policy). */
  policy?: string;
  /** Where the connection or request was delivered. */
  cluster?: string;
  reason: string;
}

type Resources = Partial<Record<TypeUrl, readonly Resource[]>>;
const asBodies = (value: unknown): Body[] => (Array.isArray(value) ? (value as Body[]) : []);

function isTls(request: SimulatedInboundRequest): boolean {
  return request.peerPrincipal !== undefined || request.tlsWithoutCertificate === true;
}

/** Envoy's chain choice on virtualInbound: destination port first, then transport protocol. */
function selectChain(listener: Body, request: SimulatedInboundRequest): Body | undefined {
  const transport = isTls(request) ? 'tls' : 'raw_buffer';
  const chains = asBodies(listener.filterChains);
  const byPort = chains.filter(
    (c) =>
      ((c.filterChainMatch as Body | undefined)?.destinationPort as Body | undefined)?.value === request.port,
  );
  const candidates =
    byPort.length > 0
      ? byPort
      : chains.filter((c) => !(c.filterChainMatch as Body | undefined)?.destinationPort);
  const exact = candidates.find(
    (c) => (c.filterChainMatch as Body | undefined)?.transportProtocol === transport,
  );
  const any = candidates.find(
    (c) => (c.filterChainMatch as Body | undefined)?.transportProtocol === undefined,
  );
  // Envoy narrows by port and then by transport protocol; a connection that
  // matches neither falls to the default chain.
  return exact ?? any ?? (listener.defaultFilterChain as Body | undefined);
}

/** Checks the client certificate the chain's DownstreamTlsContext demands; undefined when it passes. */
function handshakeProblem(chain: Body, request: SimulatedInboundRequest): string | undefined {
  const socket = chain.transportSocket as Body | undefined;
  // TLS to a plaintext chain is no handshake at all: the bytes go on as they are.
  if (!socket) return undefined;
  const context = (socket.typedConfig ?? {}) as Body;
  const requireCert = (context.requireClientCertificate as { value?: boolean } | undefined)?.value === true;
  if (request.peerPrincipal === undefined) return requireCert ? 'no client certificate' : undefined;
  const validation = (
    (context.commonTlsContext as Body | undefined)?.combinedValidationContext as Body | undefined
  )?.defaultValidationContext as Body | undefined;
  const sans = asBodies(validation?.matchTypedSubjectAltNames).filter((m) => m.sanType === 'URI');
  if (sans.length > 0 && !sans.some((m) => stringMatches(m.matcher as Body, request.peerPrincipal!)))
    return `client certificate ${request.peerPrincipal} is not accepted by the chain's SAN matchers`;
  return undefined;
}

function targetCluster(filter: Body): string | undefined {
  const config = (filter.typedConfig ?? {}) as Body;
  if (typeof config.cluster === 'string') return config.cluster;
  const route = asBodies(
    ((config.routeConfig as Body | undefined)?.virtualHosts as Body[] | undefined)?.[0]?.routes,
  )[0];
  return ((route?.route as Body | undefined)?.cluster as string | undefined) ?? undefined;
}

/** The jwt_authn filter's verdict: metadata to add, or a 401 reason. */
function authenticate(
  config: Body,
  jwt: SimulatedInboundRequest['jwt'],
): { payload?: Record<string, unknown>; rejected?: string } {
  if (!jwt) return {};
  if ('invalid' in jwt) return { rejected: 'Jwt verification fails' };
  const providers = Object.values((config.providers ?? {}) as Record<string, Body>);
  const provider = providers.find((p) => {
    if (p.issuer !== undefined && p.issuer !== jwt.payload.iss) return false;
    const audiences = (p.audiences as string[] | undefined) ?? [];
    if (audiences.length === 0) return true;
    const aud = jwt.payload.aud;
    const tokenAudiences = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
    return tokenAudiences.some((a) => audiences.includes(String(a)));
  });
  if (!provider) return { rejected: 'Jwt issuer or audience is not configured' };
  // normalizePayloadInMetadata: space-delimited string claims become lists.
  const spaceDelimited = new Set(
    ((provider.normalizePayloadInMetadata as Body | undefined)?.spaceDelimitedClaims as
      | string[]
      | undefined) ?? [],
  );
  const payload = Object.fromEntries(
    Object.entries(jwt.payload).map(([claim, value]) => [
      claim,
      spaceDelimited.has(claim) && typeof value === 'string'
        ? value.split(' ').filter((v) => v !== '')
        : value,
    ]),
  );
  return { payload };
}

/**
 * Walks `request` through the sidecar's `virtualInbound` in `resources`.
 * Never throws; `reason` says why it ended where it did.
 */
export function simulateInbound(resources: Resources, request: SimulatedInboundRequest): InboundSimulation {
  const listener = resources[LISTENER_TYPE_URL]?.find((r) => r.name === VIRTUAL_INBOUND)?.body;
  if (!listener) return { outcome: 'closed', reason: 'no virtualInbound listener' };
  const chain = selectChain(listener, request);
  if (!chain) return { outcome: 'closed', reason: 'no filter chain matched' };
  const result: InboundSimulation = { outcome: 'closed', reason: '' };
  if (chain.name !== undefined) result.filterChain = String(chain.name);
  result.transport = chain.transportSocket ? 'tls' : 'raw_buffer';
  const problem = handshakeProblem(chain, request);
  if (problem) return { ...result, outcome: 'handshake-failed', reason: problem };
  const sourceIp = request.sourceIp ?? '127.0.0.1';
  const headers = new Map(Object.entries(request.http?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const fullPath = request.http?.path ?? '/';
  if (request.http) {
    headers.set(':method', request.http.method ?? 'GET');
    headers.set(':path', fullPath);
    headers.set(':authority', request.http.authority ?? 'localhost');
  }
  const input = {
    peerPrincipal: chain.transportSocket ? request.peerPrincipal : undefined,
    authenticated: chain.transportSocket !== undefined && request.peerPrincipal !== undefined,
    sourceIp,
    remoteIp: request.remoteIp ?? sourceIp,
    destinationIp: request.destinationIp ?? '127.0.0.1',
    destinationPort: request.port,
    sni: request.sni ?? '',
    metadata: {} as Record<string, unknown>,
  };
  const tcpInput: RbacInput = input;
  const filters = asBodies(chain.filters);
  for (const filter of filters) {
    if (filter.name !== 'envoy.filters.network.rbac') continue;
    const decision = evaluateRbac((filter.typedConfig ?? {}) as Body, tcpInput);
    if (!decision.allowed)
      return {
        ...result,
        outcome: 'denied',
        ...(decision.policy ? { policy: decision.policy } : {}),
        reason: `network RBAC ${decision.action}`,
      };
    if (decision.action !== 'LOG' && decision.policy) result.policy = decision.policy;
  }
  const last = filters.at(-1);
  const cluster = last ? targetCluster(last) : undefined;
  if (!last || !cluster || cluster === 'BlackHoleCluster')
    return { ...result, outcome: 'closed', reason: 'the chain leads to BlackHoleCluster' };
  const hcm =
    last.name === 'envoy.filters.network.http_connection_manager'
      ? ((last.typedConfig ?? {}) as Body)
      : undefined;
  if (hcm) {
    if (!request.http) return { ...result, outcome: 'closed', reason: 'an HTTP chain needs an HTTP request' };
    if (isTls(request) && !chain.transportSocket)
      return {
        ...result,
        outcome: 'closed',
        reason: 'TLS bytes reached a plaintext HTTP connection manager',
      };
    const httpInput: RbacInput = { ...input, headers, path: fullPath.split('?', 1)[0] };
    for (const filter of asBodies(hcm.httpFilters)) {
      const config = (filter.typedConfig ?? {}) as Body;
      if (filter.name === JWT_AUTHN_FILTER) {
        const verdict = authenticate(config, request.jwt);
        if (verdict.rejected)
          return { ...result, outcome: 'unauthenticated', status: 401, reason: verdict.rejected };
        if (verdict.payload) input.metadata[JWT_AUTHN_FILTER] = { [JWT_PAYLOAD_KEY]: verdict.payload };
      }
      if (filter.name === 'envoy.filters.http.rbac') {
        const decision = evaluateRbac(config, httpInput);
        if (!decision.allowed) {
          return {
            ...result,
            outcome: 'denied',
            status: 403,
            ...(decision.policy ? { policy: decision.policy } : {}),
            reason: `RBAC: access denied (${decision.action} filter)`,
          };
        }
        if (decision.action !== 'LOG' && decision.policy) result.policy = decision.policy;
      }
    }
    return { ...result, outcome: 'allowed', status: 200, cluster, reason: 'delivered to the application' };
  }
  return { ...result, outcome: 'allowed', cluster, reason: 'delivered to the application' };
}
