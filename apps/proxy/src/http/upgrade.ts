/**
 * HTTP/1.1 upgrades (WebSocket): when the connection manager enables the
 * `websocket` upgrade type, the request is routed like any other and then
 * the two sockets are spliced (request head replayed upstream). Otherwise
 * the upgrade is refused with 403, as Envoy does.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { HttpConnectionManagerRuntime } from './http-connection-manager.ts';
import type { UpgradeRequest } from './http1-connection.ts';
import { pickCluster, selectRoute, selectVirtualHost } from './router.ts';

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nserver: weft\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/** Routes and splices one upgrade request; never throws. */
export function handleUpgrade(
  hcm: HttpConnectionManagerRuntime,
  req: UpgradeRequest,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on('error', () => socket.destroy());
  if (!hcm.config.websocket || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    refuse(socket, '403 Forbidden');
    return;
  }
  const authority = req.headers.host ?? '';
  const path = req.url;
  const routeConfig = hcm.routeConfig();
  const virtualHost = routeConfig && selectVirtualHost(routeConfig, authority);
  const route =
    virtualHost && selectRoute(virtualHost, { authority, path, headers: req.headers }, hcm.services.random);
  if (route?.action.kind !== 'forward') {
    refuse(socket, '404 Not Found');
    return;
  }
  const picked = pickCluster(route.action, req.headers, hcm.services.random);
  const name = typeof picked === 'string' ? picked : picked?.name;
  const cluster = name ? hcm.services.clusters.get(name) : undefined;
  const host = cluster?.hostSet.pick(undefined);
  if (!cluster || !host) {
    refuse(socket, '503 Service Unavailable');
    return;
  }
  const upstream = net.connect({ host: host.address, port: host.port });
  upstream.setTimeout(cluster.config.connectTimeoutMs, () => upstream.destroy());
  upstream.on('error', () => {
    if (upstream.connecting || upstream.bytesWritten === 0) refuse(socket, '503 Service Unavailable');
    else socket.destroy();
  });
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
  upstream.once('connect', () => {
    upstream.setTimeout(0);
    const lines = [`${req.method} ${path} HTTP/1.1`];
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.toLowerCase() === 'host' && route.action.kind === 'forward' && route.action.hostRewrite) {
        lines.push(`host: ${route.action.hostRewrite}`);
      } else lines.push(`${name}: ${raw[i + 1]}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
}
