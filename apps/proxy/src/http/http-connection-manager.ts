/**
 * The HTTP connection manager of one filter chain: the downstream codecs
 * (weft's own HTTP/1.1 codec on the raw socket, http1-server.ts; node:http2
 * for h2c prior knowledge and ALPN h2), the HTTP
 * filter chain, route resolution (inline or RDS, looked up per request so
 * RDS updates apply to open connections too), and downstream protocol
 * errors (400, 431) answered without ever throwing.
 *
 * Connections are handed over by the listener after protocol sniffing
 * (`handleHttp1`, `handleHttp2`). `drain()` stops keep-alive and lets
 * in-flight requests finish (old listeners on LDS updates, SIGTERM).
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { HttpConnectionManagerConfig, ListenerConfig } from '../config/listener-config.ts';
import type { RouteConfig } from '../config/route-config.ts';
import { corsFilter } from '../filters/cors-filter.ts';
import { faultFilter } from '../filters/fault-filter.ts';
import { createSecurityFilter } from '../security/security-filters.ts';
import type { ClusterManager } from '../upstream/cluster-manager.ts';
import {
  type DownstreamRequest,
  type DownstreamResponse,
  type HttpFilter,
  HttpStream,
} from './http-stream.ts';
import type { Http1Request } from './http1-request.ts';
import type { Http1Response } from './http1-response.ts';
import { Http1Server } from './http1-server.ts';
import { ResponseFlag } from './response-flags.ts';
import { selectRoute, selectVirtualHost } from './router.ts';
import { routerFilter } from './router-filter.ts';
import { handleUpgrade } from './upgrade.ts';

type Timer = ReturnType<typeof setTimeout>;

/** What every HTTP connection manager shares: clusters, routes, clock, randomness, completion hook. */
export interface ProxyServices {
  readonly clusters: ClusterManager;
  /** The current RouteConfiguration by RDS name. */
  routes(name: string): RouteConfig | undefined;
  now(): number;
  random(): number;
  setTimer(fn: () => void, ms: number): Timer;
  clearTimer(timer: Timer): void;
  /** Called once per finished stream (access log, metrics). */
  onStreamComplete(stream: HttpStream): void;
  /** Called once per new stream before routing (trace context: headers may be added). */
  onStreamStart?(stream: HttpStream): void;
}

const FILTERS: Record<string, HttpFilter> = { fault: faultFilter, cors: corsFilter, router: routerFilter };

export class HttpConnectionManagerRuntime {
  readonly config: HttpConnectionManagerConfig;
  readonly listener: ListenerConfig;
  readonly services: ProxyServices;
  readonly filters: readonly HttpFilter[];
  private readonly http1: Http1Server;
  private readonly h2: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private draining = false;

  constructor(config: HttpConnectionManagerConfig, listener: ListenerConfig, services: ProxyServices) {
    this.config = config;
    this.listener = listener;
    this.services = services;
    this.filters = config.httpFilters.map((kind) =>
      typeof kind === 'string' ? FILTERS[kind]! : createSecurityFilter(kind),
    );
    const onRequest = (req: DownstreamRequest, res: DownstreamResponse): void => this.handleRequest(req, res);
    this.http1 = new Http1Server(
      {
        serverName: config.serverName,
        maxHeadBytes: config.maxRequestHeadersKb * 1024,
        maxHeaders: config.maxHeadersCount,
        idleTimeoutMs: config.idleTimeoutMs,
        headersTimeoutMs: config.requestHeadersTimeoutMs,
        requestTimeoutMs: config.requestTimeoutMs,
        now: services.now,
      },
      {
        onRequest: (req: Http1Request, res: Http1Response) => this.handleRequest(req, res),
        onUpgrade: (req, socket, head) => handleUpgrade(this, req, socket, head),
      },
      services,
    );
    this.h2 = http2.createServer({
      maxHeaderListPairs: 1000,
      maxSendHeaderBlockLength: config.maxRequestHeadersKb * 1024,
    });
    this.h2.on(
      'request',
      onRequest as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
    );
    this.h2.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
    // Session and stream errors are per connection; never let them reach the process.
    this.h2.on('sessionError', () => {});
    this.h2.on('streamError', () => {});
  }

  /** Serves an HTTP/1.x connection. */
  handleHttp1(socket: Duplex): void {
    this.http1.serve(socket);
  }

  /** Serves an HTTP/2 prior-knowledge (h2c) connection. */
  handleHttp2(socket: Duplex): void {
    this.h2.emit('connection', socket);
  }

  /** The route configuration in force for a new request, or undefined (404 NR). */
  routeConfig(): RouteConfig | undefined {
    return this.config.routeConfig ?? (this.config.rds ? this.services.routes(this.config.rds) : undefined);
  }

  private handleRequest(req: DownstreamRequest, res: DownstreamResponse): void {
    const stream = new HttpStream(req, res, this, this.listener);
    this.services.onStreamStart?.(stream);
    res.on('close', () => {
      if (stream.done) return;
      stream.addFlag(ResponseFlag.DownstreamConnectionTermination);
      stream.complete();
    });
    const routeConfig = this.routeConfig();
    stream.routeConfig = routeConfig;
    const virtualHost = routeConfig && selectVirtualHost(routeConfig, stream.authority);
    stream.virtualHost = virtualHost;
    const route =
      virtualHost &&
      selectRoute(
        virtualHost,
        { authority: stream.authority, path: stream.path, headers: req.headers },
        this.services.random,
      );
    if (!route) {
      stream.localReply(404, undefined, ResponseFlag.NoRouteFound);
      return;
    }
    stream.route = route;
    stream.continueDecoding();
  }

  /**
   * Stops keep-alive on HTTP/1 connections (each closes after its next
   * response; idle ones are destroyed with `destroy()` after the drain
   * period) and sends GOAWAY on HTTP/2 sessions. Safe to repeat.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.http1.drain();
    for (const session of this.sessions) session.close();
  }

  /** Destroys whatever connections remain (after the drain period). */
  destroy(): void {
    this.drain();
    this.http1.destroy();
    for (const session of this.sessions) session.destroy();
  }
}
