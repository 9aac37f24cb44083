/**
 * Where an HTTP request to an ORIGINAL_DST cluster goes (Envoy's original
 * destination load balancer, Istio's PassthroughCluster and
 * InboundPassthroughCluster):
 *
 * 1. with `originalDstLbConfig.useHttpHeader`, the request's
 *    `x-envoy-original-dst-host` (or `httpHeaderName`) header, an
 *    `ip:port` literal (`[v6]:port` for IPv6); only the first value counts,
 *    and a value that is not an IP literal and port yields no host (503 UH);
 * 2. else (or without the header) the downstream connection's original
 *    destination as the capture listener recovered it (SO_ORIGINAL_DST),
 *    none for a connection that was not redirected (503 UH: connecting to
 *    the proxy's own address would loop);
 * 3. `upstreamPortOverride` replaces the port of either.
 *
 * The connection's destination is read from the socket the request arrived
 * on: the listener records it on the accepted net.Socket
 * (`setOriginalDestination`); a TLS downstream's TLSSocket wraps that socket
 * as its `_parent` (Node's TLSSocket over an existing socket), so both are
 * looked up.
 */
import { isIP, type Socket } from 'node:net';
import { originalDestinationOf, type SocketAddress } from '../capture/original-dst.ts';
import type { OriginalDstConfig } from '../config/cluster-config.ts';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** The downstream connection's original destination (TLS or plaintext), or undefined when not redirected. */
export function connectionOriginalDestination(socket: object | null | undefined): SocketAddress | undefined {
  if (!socket) return undefined;
  const direct = originalDestinationOf(socket as Socket);
  if (direct) return direct;
  const parent = (socket as { _parent?: unknown })._parent;
  return parent && typeof parent === 'object' ? originalDestinationOf(parent as Socket) : undefined;
}

/** Parses `ip:port` / `[ipv6]:port`; undefined unless both parts are valid. */
export function parseHostPort(value: string): SocketAddress | undefined {
  const text = value.trim();
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (isIP(host) !== 4) return undefined;
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { host, port } : undefined;
}

/** The upstream address for one request to an ORIGINAL_DST cluster, or undefined (503 UH). */
export function originalDstTarget(
  config: OriginalDstConfig,
  headers: Headers,
  socket: object | null | undefined,
): SocketAddress | undefined {
  let target: SocketAddress | undefined;
  const raw = config.useHttpHeader ? headers[config.httpHeaderName] : undefined;
  if (raw !== undefined) {
    const first = Array.isArray(raw) ? raw[0] : raw;
    // Repeated headers may arrive joined with ','; the first value is the one Envoy uses.
    const comma = first?.indexOf(',') ?? -1;
    target = first === undefined ? undefined : parseHostPort(comma < 0 ? first : first.slice(0, comma));
    if (!target) return undefined;
  } else {
    target = connectionOriginalDestination(socket);
    if (!target) return undefined;
  }
  return config.upstreamPortOverride === undefined
    ? target
    : { host: target.host, port: config.upstreamPortOverride };
}
