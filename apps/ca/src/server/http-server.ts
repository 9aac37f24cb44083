/**
 * The CA's plain HTTP endpoint: `GET /root-cert` (the trust bundle, PEM),
 * `GET /metrics` (Prometheus text), `GET /ready` (200 once serving).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from '@weft/telemetry';
import type { HostPort } from '../config/flags.ts';

export interface HttpServerOptions {
  address: HostPort;
  rootCertPem: () => string;
  metrics: MetricsRegistry;
  ready: () => boolean;
}

export interface RunningHttpServer {
  port: number;
  close(): Promise<void>;
}

function reply(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n');
    if (path === '/root-cert') return reply(res, 200, options.rootCertPem(), 'application/x-pem-file');
    if (path === '/metrics') return options.metrics.handleScrape(req, res);
    if (path === '/ready')
      return options.ready() ? reply(res, 200, 'ready\n') : reply(res, 503, 'not ready\n');
    return reply(res, 404, 'not found\n');
  });
  server.listen(options.address.port, options.address.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
