/**
 * The discovery server's HTTP port (15014): readiness, Prometheus metrics and
 * the debug endpoints. Routing and error handling live here; the content of
 * each endpoint comes from `DebugEndpoints`, so this file knows nothing about
 * xDS or config.
 *
 * Every endpoint is GET (HEAD too); a handler that throws answers 500 and logs,
 * and the server keeps serving.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@weft/telemetry';

export type ReadyState = { ready: true } | { ready: false; reasons: readonly string[] };

export type ConfigDumpResult = { ok: true; dump: unknown } | { ok: false; message: string };

/** The content behind each endpoint. */
export interface DebugEndpoints {
  /** `/ready`: 200 when ready, 503 with the reasons otherwise. */
  ready(): ReadyState;
  /** `/metrics`: Prometheus text exposition. */
  handleMetrics(req: IncomingMessage, res: ServerResponse): void;
  /** `/debug/syncz`: per-proxy sync state as JSON. */
  syncz(): unknown;
  /** `/debug/config_dump?proxyID=...`: the resources that proxy gets, as JSON (404 when unknown). */
  configDump(proxyId: string): ConfigDumpResult;
  /** `/debug/config_problems`: the problems of every config source, as JSON. */
  configProblems(): unknown;
  /** `/debug/memory`: the process's memory and the xDS write queue, as JSON. */
  memory(): unknown;
}

/** The paths served, with one line each for the index at `/debug`. */
export const HTTP_ENDPOINTS: Readonly<Record<string, string>> = {
  '/ready': '200 when the config is loaded and xDS is serving, 503 with reasons otherwise',
  '/metrics': 'Prometheus metrics',
  '/debug/syncz': 'each connected proxy: type, sent and acked version per type, last NACK',
  '/debug/config_dump?proxyID=ID': 'the resources the proxy gets, as JSON (ID: node id or name.namespace)',
  '/debug/config_problems': 'config objects rejected by validation, with file:line and field path',
  '/debug/memory':
    'process memory in bytes (rss, V8 heap, external, array buffers) and xDS response bytes in flight',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function route(endpoints: DebugEndpoints, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendJson(res, 405, { error: `method ${req.method} not allowed` });
    return;
  }
  const url = URL.parse(req.url ?? '/', 'http://localhost');
  if (url === null) {
    sendJson(res, 400, { error: 'malformed request target' });
    return;
  }
  switch (url.pathname) {
    case '/ready': {
      const state = endpoints.ready();
      sendJson(res, state.ready ? 200 : 503, state);
      return;
    }
    case '/metrics':
      endpoints.handleMetrics(req, res);
      return;
    case '/debug':
      sendJson(res, 200, HTTP_ENDPOINTS);
      return;
    case '/debug/syncz':
      sendJson(res, 200, endpoints.syncz());
      return;
    case '/debug/config_dump': {
      const proxyId = url.searchParams.get('proxyID');
      if (proxyId === null || proxyId === '') {
        sendJson(res, 400, { error: 'query parameter proxyID is required (node id or name.namespace)' });
        return;
      }
      const result = endpoints.configDump(proxyId);
      if (result.ok) sendJson(res, 200, result.dump);
      else sendJson(res, 404, { error: result.message });
      return;
    }
    case '/debug/config_problems':
      sendJson(res, 200, endpoints.configProblems());
      return;
    case '/debug/memory':
      sendJson(res, 200, endpoints.memory());
      return;
    default:
      sendJson(res, 404, { error: `no endpoint ${url.pathname}`, endpoints: HTTP_ENDPOINTS });
  }
}

/** Creates (does not start) the HTTP server. */
export function createHttpServer(endpoints: DebugEndpoints, logger: Logger): Server {
  const server = createServer((req, res) => {
    try {
      route(endpoints, req, res);
    } catch (error) {
      logger.error('http handler failed', { path: req.url, error });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  });
  server.on('clientError', (error, socket) => {
    logger.debug('malformed http request', { error });
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
