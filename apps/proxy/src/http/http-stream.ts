/**
 * One downstream HTTP request/response exchange (HTTP/1.1 or HTTP/2 via the
 * node:http2 compatibility API), the state the filter chain shares, and the
 * one way responses are written (so `server`, response header mutation and
 * `x-envoy-upstream-service-time` are applied once, in one place).
 *
 * Filters run in order through `continueDecoding()`; a filter returning
 * 'stop' resumes the chain later by calling it again (Envoy's
 * StopIteration/continueDecoding). No per-request closures are created on
 * the common path.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { EndpointConfig } from '../config/endpoint-config.ts';
import type { ListenerConfig } from '../config/listener-config.ts';
import type { WeightedClusterConfig } from '../config/route-action-config.ts';
import type { RouteConfig, RouteEntryConfig, VirtualHostConfig } from '../config/route-config.ts';
import { applyHeaderMutation } from './header-mutation.ts';
import type { HttpConnectionManagerRuntime } from './http-connection-manager.ts';
import { normalizeRequestPath } from './path-normalization.ts';
import { ResponseFlag, type ResponseFlagCode } from './response-flags.ts';

/** The structural subset of node's ServerResponse / Http2ServerResponse the proxy uses. */
export interface DownstreamResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  writeHead(statusCode: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer | string): unknown;
  addTrailers(headers: OutgoingHttpHeaders): void;
  once(event: 'drain', fn: () => void): unknown;
  on(event: 'close', fn: () => void): unknown;
  destroy(error?: Error): unknown;
}

/** The structural subset of node's IncomingMessage / Http2ServerRequest the proxy uses. */
export type DownstreamRequest = Readable & {
  readonly method?: string;
  readonly url?: string;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersionMajor: number;
  readonly socket: { readonly remoteAddress?: string; readonly encrypted?: boolean } | null;
  /** Body bytes read so far, when the codec counts them (weft's HTTP/1.1 codec does; HTTP/2's compat request does not). */
  readonly bytesRead?: number;
};

/** An HTTP filter. `onRequest` returns 'stop' when it will call `stream.continueDecoding()` itself. */
export interface HttpFilter {
  readonly name: string;
  onRequest(stream: HttpStream): 'continue' | 'stop';
  /** Adjusts response headers before they are written (called for upstream and local replies). */
  onResponseHeaders?(stream: HttpStream, headers: OutgoingHttpHeaders): void;
}

/** Hop-by-hop headers never forwarded (RFC 9110 section 7.6.1). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'http2-settings',
]);

export class HttpStream {
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly hcm: HttpConnectionManagerRuntime;
  readonly listener: ListenerConfig;
  readonly startTime: number;
  readonly method: string;
  /** :path with query. */
  readonly path: string;
  readonly authority: string;
  readonly isGrpc: boolean;
  routeConfig: RouteConfig | undefined;
  virtualHost: VirtualHostConfig | undefined;
  route: RouteEntryConfig | undefined;
  /** The weighted cluster entry the router picked (its header mutations apply too). */
  weightedCluster: WeightedClusterConfig | undefined;
  clusterName = '';
  upstreamHost = '';
  /** The endpoint of the last upstream attempt (telemetry reads its workload metadata). */
  upstreamEndpoint: EndpointConfig | undefined;
  /** Status sent downstream (0 until headers go out). */
  status = 0;
  responseFlags: ResponseFlagCode[] = [];
  attempts = 0;
  bytesSent = 0;
  /** The response's grpc-status (upstream trailers or trailers-only headers, or a local reply's), '' when none. */
  grpcStatus = '';
  /** Set by the router when a response is being streamed from upstream. */
  upstreamStartTime = 0;
  /** Response headers filters add (e.g. CORS); written with the response. */
  extraResponseHeaders: OutgoingHttpHeaders | undefined;
  /** The downstream went away or the stream completed. */
  done = false;
  private filterIndex = -1;
  private onDone: Array<() => void> = [];

  constructor(
    req: DownstreamRequest,
    res: DownstreamResponse,
    hcm: HttpConnectionManagerRuntime,
    listener: ListenerConfig,
  ) {
    this.req = req;
    this.res = res;
    this.hcm = hcm;
    this.listener = listener;
    this.startTime = hcm.services.now();
    this.method = req.method ?? 'GET';
    const rawPath = (req.headers[':path'] as string | undefined) ?? req.url ?? '/';
    const config = hcm.config;
    this.path =
      config.normalizePath || config.mergeSlashes
        ? normalizeRequestPath(rawPath, config.normalizePath, config.mergeSlashes)
        : rawPath;
    this.authority = (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? '';
    this.isGrpc = (req.headers['content-type'] ?? '').startsWith('application/grpc');
  }

  /** Runs the next filter; the last one (the router) always terminates the chain. */
  continueDecoding(): void {
    const filters = this.hcm.filters;
    while (!this.done && this.res.headersSent === false && ++this.filterIndex < filters.length) {
      if (filters[this.filterIndex]!.onRequest(this) === 'stop') return;
    }
  }

  addFlag(flag: ResponseFlagCode): void {
    if (!this.responseFlags.includes(flag)) this.responseFlags.push(flag);
  }

  /** Registers cleanup run once when the stream completes or the downstream goes away. */
  onComplete(fn: () => void): void {
    if (this.done) fn();
    else this.onDone.push(fn);
  }

  /**
   * Writes response headers: response mutations from most to least specific
   * (weighted cluster, route, virtual host, route configuration; Envoy's
   * default order), response filters, extras from filters, `server`.
   */
  writeHeaders(status: number, headers: OutgoingHttpHeaders): void {
    if (this.done || this.res.headersSent) return;
    if (this.weightedCluster) applyHeaderMutation(headers, this.weightedCluster.responseHeaders);
    if (this.route) applyHeaderMutation(headers, this.route.responseHeaders);
    if (this.virtualHost) applyHeaderMutation(headers, this.virtualHost.responseHeaders);
    if (this.routeConfig) applyHeaderMutation(headers, this.routeConfig.responseHeaders);
    for (const filter of this.hcm.filters) filter.onResponseHeaders?.(this, headers);
    if (this.extraResponseHeaders) Object.assign(headers, this.extraResponseHeaders);
    headers.server = this.hcm.config.serverName;
    this.status = status;
    try {
      this.res.writeHead(status, headers);
    } catch {
      // A header node refuses to write (e.g. invalid for HTTP/2): fail this stream, not the process.
      this.status = 0;
      this.addFlag(ResponseFlag.UpstreamProtocolError);
      this.reset();
    }
  }

  /**
   * Answers locally (NR, UH, UO, UT, FI, direct responses...). gRPC requests
   * get a trailers-only reply carrying the mapped grpc-status, as Envoy does.
   */
  localReply(
    status: number,
    body: string | Buffer | undefined,
    flag?: ResponseFlagCode,
    headers: OutgoingHttpHeaders = {},
  ): void {
    if (flag) this.addFlag(flag);
    if (this.done) return;
    if (this.res.headersSent) {
      this.reset();
      return;
    }
    if (this.isGrpc && status >= 400) {
      headers['content-type'] = 'application/grpc';
      this.grpcStatus = String(grpcStatusFor(status));
      headers['grpc-status'] = this.grpcStatus;
      headers['grpc-message'] = encodeURIComponent(typeof body === 'string' ? body : 'proxy error');
      this.writeHeaders(200, headers);
      this.finish();
      return;
    }
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    if (payload) {
      headers['content-type'] ??= 'text/plain';
      headers['content-length'] = String(payload.length);
    } else if (status !== 204 && status !== 304) {
      headers['content-length'] = '0';
    }
    this.writeHeaders(status, headers);
    if (payload && this.method !== 'HEAD') this.bytesSent += payload.length;
    this.finish(this.method === 'HEAD' ? undefined : payload);
  }

  /** Ends the response (optionally with a last chunk) and completes the stream. */
  finish(last?: Buffer): void {
    if (this.done) return;
    if (!this.res.writableEnded) this.res.end(last);
    this.complete();
  }

  /** Aborts the downstream exchange (after headers were sent, the only honest signal of failure). */
  reset(): void {
    if (this.done) return;
    this.res.destroy();
    this.complete();
  }

  /** Marks the stream done and runs completion hooks (access log, metrics) once. */
  complete(): void {
    if (this.done) return;
    this.done = true;
    const hooks = this.onDone;
    this.onDone = [];
    for (const fn of hooks) fn();
    this.hcm.services.onStreamComplete(this);
  }

  /** Request body bytes received, when the downstream codec counts them (else telemetry falls back to Content-Length). */
  get bytesReceived(): number | undefined {
    return this.req.bytesRead;
  }

  /** Envoy's `%RESPONSE_FLAGS%`: flags joined by `,`, or `-`. */
  flagsText(): string {
    return this.responseFlags.length === 0 ? '-' : this.responseFlags.join(',');
  }
}

/** Envoy's HTTP -> gRPC status mapping for local replies (grpc/doc/http-grpc-status-mapping.md). */
export function grpcStatusFor(status: number): number {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}
