/**
 * `envoy.filters.network.rbac` on a filter chain: decided once per
 * connection, before the TCP proxy or HTTP connection manager sees a byte
 * (after the TLS handshake on mTLS chains, so the peer's SPIFFE ID is
 * known). Header, path and metadata rules never match here. A denied
 * connection is closed.
 */
import type { Socket } from 'node:net';
import { at, type Body, type ProblemList } from '../config/problems.ts';
import { compileRbac, evaluateRbac, type RbacConfig } from '../filters/rbac-config.ts';
import type { PeerIdentity } from '../tls/tls-runtime.ts';

export const NETWORK_RBAC_TYPE = 'envoy.extensions.filters.network.rbac.v3.RBAC';
export const NETWORK_RBAC_NAME = 'envoy.filters.network.rbac';

/** Compiles a network RBAC filter's typedConfig (no rules: allows everything, as Envoy). */
export function compileNetworkRbac(
  config: Body | undefined,
  path: string,
  problems: ProblemList,
): RbacConfig | undefined {
  return compileRbac(config ?? {}, at(path, 'typedConfig'), problems);
}

function unmapped(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** True when every network RBAC filter of the chain lets this connection through. */
export function networkRbacAllows(
  configs: readonly RbacConfig[],
  socket: Pick<Socket, 'remoteAddress' | 'localAddress'>,
  destinationPort: number,
  peer: PeerIdentity | undefined,
): boolean {
  if (configs.length === 0) return true;
  const sourceIp = unmapped(socket.remoteAddress);
  const input = {
    peerPrincipal: peer?.principal,
    authenticated: peer?.authenticated === true,
    sourceIp,
    remoteIp: sourceIp,
    destinationIp: unmapped(socket.localAddress),
    destinationPort,
    sni: peer?.sni ?? '',
    headers: undefined,
    path: undefined,
    metadata: {},
  };
  return configs.every((config) => evaluateRbac(config, input).allowed);
}
