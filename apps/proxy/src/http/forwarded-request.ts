/**
 * One request forwarded upstream by the router, across its attempts.
 *
 * Ordering: cluster pick -> circuit breaker -> request headers and body
 * (buffered, up to BUFFER_LIMIT, only when a retry policy may replay it)
 * -> attempt: host pick -> pool send -> response streamed downstream with
 * backpressure. A retriable response or failure before any byte went
 * downstream is retried after a backoff; once headers went downstream, a
 * failure can only reset the downstream stream (flag UR).
 */
import type { ForwardAction, RetryPolicyConfig } from '../config/route-action-config.ts';
import { UpstreamTlsError } from '../tls/upstream-connector.ts';
import type { UpstreamCluster } from '../upstream/cluster-manager.ts';
import {
  Deadline,
  type DeadlineOwner,
  type DeadlineQueue,
  deadlineQueueFor,
} from '../upstream/deadline-queue.ts';
import type { Host } from '../upstream/host-set.ts';
import { originalDstTarget } from '../upstream/original-dst-host.ts';
import { UpstreamError } from '../upstream/upstream-errors.ts';
import type { UpstreamHandler, UpstreamRequest } from '../upstream/upstream-pool.ts';
import { applyHeaderMutation } from './header-mutation.ts';
import { HOP_BY_HOP, type HttpStream } from './http-stream.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import { ResponseFlag } from './response-flags.ts';
import { pickCluster } from './router.ts';
import { requestHash, upstreamRequestHeaders } from './router-filter.ts';
import { Attempt } from './upstream-attempt.ts';

/** Bodies larger than this are streamed, never buffered, and so never retried (Envoy's default is 1 MiB). */
export const BUFFER_LIMIT = 1024 * 1024;

/** Deadline kinds of a forwarded request (`onDeadline`). */
const ROUTE_TIMEOUT = 0;
const IDLE_TIMEOUT = 1;

export class ForwardedRequest implements DeadlineOwner {
  readonly stream: HttpStream;
  readonly action: ForwardAction;
  cluster: UpstreamCluster | undefined;
  private retry: RetryPolicyConfig | undefined;
  private retriesLeft = 0;
  private request: UpstreamRequest | undefined;
  private hash: number | undefined;
  /** A streamed body's copy for retries (unknown-length bodies only). */
  private replay: ReplayBuffer | undefined;
  /** Route timeout, route idle timeout and per-try timeouts share the proxy's one deadline queue. */
  readonly deadlines: DeadlineQueue;
  private routeDeadline: Deadline | undefined;
  /** Stream idle deadline (route idleTimeout, else the HCM's streamIdleTimeout); refreshed on upstream activity. */
  idleDeadline: Deadline | undefined;
  current: Attempt | undefined;

  constructor(stream: HttpStream, action: ForwardAction) {
    this.stream = stream;
    this.action = action;
    this.deadlines = deadlineQueueFor(stream.hcm.services);
  }

  /** Upstream activity (response headers, body bytes): pushes the stream idle deadline back. */
  touch(): void {
    if (this.idleDeadline) this.deadlines.refresh(this.idleDeadline);
  }

  start(): void {
    const stream = this.stream;
    const services = stream.hcm.services;
    const picked = pickCluster(this.action, stream.req.headers, services.random);
    const name = typeof picked === 'string' ? picked : picked?.name;
    if (typeof picked === 'object') stream.weightedCluster = picked;
    stream.clusterName = name ?? '';
    const cluster = name ? services.clusters.get(name) : undefined;
    if (!cluster) {
      stream.localReply(503, 'cluster not found', ResponseFlag.NoClusterFound);
      return;
    }
    this.cluster = cluster;
    const breakers = cluster.config.circuitBreakers;
    if (
      cluster.stats.upstream_rq_active >= breakers.maxRequests ||
      cluster.pendingRequests >= breakers.maxPendingRequests
    ) {
      cluster.stats.upstream_rq_pending_overflow++;
      stream.localReply(
        503,
        'upstream connect error or disconnect/reset before headers. reset reason: overflow',
        ResponseFlag.UpstreamOverflow,
        {
          'x-envoy-overloaded': 'true',
        },
      );
      return;
    }
    const headers = upstreamRequestHeaders(stream, HOP_BY_HOP);
    if (stream.weightedCluster) applyHeaderMutation(headers, stream.weightedCluster.requestHeaders);
    const route = stream.route!;
    applyHeaderMutation(headers, route.requestHeaders);
    if (stream.virtualHost) applyHeaderMutation(headers, stream.virtualHost.requestHeaders);
    if (stream.routeConfig) applyHeaderMutation(headers, stream.routeConfig.requestHeaders);
    this.retry = route.retry;
    this.retriesLeft = route.retry?.numRetries ?? 0;
    this.hash =
      this.action.hashPolicies.length > 0 ? requestHash(stream, this.action.hashPolicies) : undefined;
    if (this.action.timeoutMs > 0) {
      this.routeDeadline = new Deadline(this, ROUTE_TIMEOUT);
      this.deadlines.arm(this.routeDeadline, this.action.timeoutMs);
    }
    const idleMs = this.action.idleTimeoutMs ?? stream.hcm.config.streamIdleTimeoutMs;
    if (idleMs > 0) {
      this.idleDeadline = new Deadline(this, IDLE_TIMEOUT);
      this.deadlines.arm(this.idleDeadline, idleMs);
    }
    stream.onComplete(() => this.onStreamComplete());
    const path = this.rewritePath();
    const authority = this.action.hostRewrite ?? stream.authority;
    const req = stream.req;
    const h2 = req.httpVersionMajor === 2;
    const endAfterHeaders =
      h2 && (req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders;
    const length = req.headers['content-length'];
    const hasBody = h2
      ? !endAfterHeaders
      : (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      this.request = { method: stream.method, path, authority, headers, body: null };
      this.mirror();
      this.attempt();
      return;
    }
    const knownSmall = length !== undefined && Number(length) <= BUFFER_LIMIT;
    if (this.retriesLeft > 0 && knownSmall) {
      this.bufferBody({ method: stream.method, path, authority, headers });
      return;
    }
    if (this.retriesLeft > 0 && length === undefined) {
      // Unknown length (chunked, HTTP/2, gRPC streams): stream now, keep a copy for retries.
      this.replay = new ReplayBuffer(req, BUFFER_LIMIT);
      this.request = { method: stream.method, path, authority, headers, body: this.replay.live };
      this.attempt();
      return;
    }
    this.retriesLeft = 0;
    this.request = { method: stream.method, path, authority, headers, body: req };
    this.attempt();
  }

  private bufferBody(base: Omit<UpstreamRequest, 'body'>): void {
    const chunks: Buffer[] = [];
    const req = this.stream.req;
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      this.request = { ...base, body: Buffer.concat(chunks) };
      this.mirror();
      this.attempt();
    });
    req.once('error', () => this.onDownstreamGone());
  }

  private rewritePath(): string {
    const path = this.stream.path;
    const match = this.stream.route!.match;
    if (this.action.prefixRewrite !== undefined) {
      if (match.kind === 'prefix' || match.kind === 'pathSeparatedPrefix') {
        return this.action.prefixRewrite + path.slice(match.value.length);
      }
      if (match.kind === 'path') {
        const q = path.indexOf('?');
        return this.action.prefixRewrite + (q < 0 ? '' : path.slice(q));
      }
    }
    const regex = this.action.regexRewrite;
    if (regex) {
      const q = path.indexOf('?');
      const bare = q < 0 ? path : path.slice(0, q);
      return bare.replace(regex.regex, regex.substitution) + (q < 0 ? '' : path.slice(q));
    }
    return path;
  }

  /** Sends a copy of a bodiless or buffered request to each mirror cluster (fire and forget). */
  private mirror(): void {
    const request = this.request;
    if (!request || this.action.mirrors.length === 0) return;
    const services = this.stream.hcm.services;
    for (const mirror of this.action.mirrors) {
      if (mirror.fraction < 1 && services.random() >= mirror.fraction) continue;
      const cluster = services.clusters.get(mirror.cluster);
      const host = cluster && this.pickHost(cluster);
      if (!cluster || !host) continue;
      const colon = request.authority.lastIndexOf(':');
      const authority =
        colon > 0
          ? `${request.authority.slice(0, colon)}-shadow${request.authority.slice(colon)}`
          : `${request.authority}-shadow`;
      cluster.pool(host).send({ ...request, authority }, DISCARD);
    }
  }

  /** Starts one attempt on a freshly picked host. */
  attempt(): void {
    const stream = this.stream;
    if (stream.done) return;
    const cluster = this.cluster!;
    // A cluster removed by CDS since the first attempt takes no new attempts.
    const host = cluster.closed ? undefined : this.pickHost(cluster);
    if (!host) {
      stream.localReply(503, 'no healthy upstream', ResponseFlag.NoHealthyUpstream);
      return;
    }
    stream.attempts++;
    let request = this.request!;
    if (this.replay && stream.attempts > 1) request = { ...request, body: this.replay.buffer() };
    request.headers['x-envoy-attempt-count'] = String(stream.attempts);
    const attempt = new Attempt(this, host);
    this.current = attempt;
    attempt.control = cluster.pool(host).send(request, attempt);
  }

  /** The cluster's load balancer pick, or for ORIGINAL_DST the request's original destination. */
  private pickHost(cluster: UpstreamCluster): Host | undefined {
    const originalDst = cluster.config.originalDst;
    if (!originalDst) return cluster.hostSet.pick(this.hash);
    const req = this.stream.req;
    const target = originalDstTarget(originalDst, req.headers, req.socket);
    return target && cluster.originalDstHost(target);
  }

  /**
   * True when a response should be retried under the policy: by HTTP
   * status, or (gRPC trailers-only responses) by the grpc-status header.
   */
  retriableStatus(status: number, grpcStatus?: string | string[]): boolean {
    const retry = this.retry;
    if (!retry) return false;
    if (grpcStatus !== undefined && retry.grpcStatuses.size > 0 && retry.grpcStatuses.has(Number(grpcStatus)))
      return true;
    const on = retry.retryOn;
    if (on.fiveXx && status >= 500) return true;
    if (on.gatewayError && (status === 502 || status === 503 || status === 504)) return true;
    if (on.retriable4xx && status === 409) return true;
    return on.retriableStatusCodes && retry.statusCodes.has(status);
  }

  /** True when `error` should be retried under the policy. */
  retriableError(error: UpstreamError): boolean {
    const on = this.retry?.retryOn;
    if (!on) return false;
    switch (error.code) {
      case 'CONNECT_FAILURE':
      case 'CONNECT_TIMEOUT':
        return on.connectFailure || on.fiveXx || on.gatewayError || on.reset;
      case 'REFUSED_STREAM':
        return on.refusedStream || on.fiveXx || on.reset;
      case 'RESET':
        return on.reset || on.fiveXx || on.gatewayError;
      case 'TIMEOUT':
        return on.fiveXx || on.gatewayError || on.reset;
      case 'CANCELLED':
        return false;
    }
  }

  /** True when a retry is allowed now (attempts left and the cluster's max_retries breaker open). */
  canRetry(): boolean {
    const cluster = this.cluster!;
    return (
      this.retriesLeft > 0 &&
      (this.replay === undefined || this.replay.replayable()) &&
      cluster.activeRetries < cluster.config.circuitBreakers.maxRetries &&
      !this.stream.done
    );
  }

  /** Schedules the next attempt after exponential backoff with full jitter. */
  scheduleRetry(): void {
    const retry = this.retry!;
    const cluster = this.cluster!;
    const services = this.stream.hcm.services;
    const n = retry.numRetries - this.retriesLeft;
    this.retriesLeft--;
    cluster.stats.upstream_rq_retry++;
    cluster.activeRetries++;
    const ceiling = Math.min(retry.baseIntervalMs * 2 ** n, retry.maxIntervalMs);
    const delay = Math.floor(services.random() * ceiling);
    const timer = services.setTimer(() => {
      cluster.activeRetries--;
      this.attempt();
    }, delay);
    this.current = undefined;
    this.stream.onComplete(() => services.clearTimer(timer));
  }

  /** Answers a failed attempt downstream (no retry left or not retriable). */
  fail(error: UpstreamError, retried: boolean): void {
    const stream = this.stream;
    if (retried) stream.addFlag(ResponseFlag.UpstreamRetryLimitExceeded);
    if (stream.res.headersSent) {
      stream.addFlag(
        error.code === 'TIMEOUT' ? ResponseFlag.UpstreamRequestTimeout : ResponseFlag.UpstreamRemoteReset,
      );
      stream.reset();
      return;
    }
    switch (error.code) {
      case 'TIMEOUT':
        stream.localReply(504, 'upstream request timeout', ResponseFlag.UpstreamRequestTimeout);
        return;
      case 'CONNECT_FAILURE':
      case 'CONNECT_TIMEOUT':
        this.cluster!.stats.upstream_cx_connect_fail++;
        stream.localReply(
          503,
          `upstream connect error or disconnect/reset before headers. reset reason: connection failure${transportFailure(error)}`,
          ResponseFlag.UpstreamConnectionFailure,
        );
        return;
      default:
        stream.localReply(
          503,
          'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
          ResponseFlag.UpstreamConnectionTermination,
        );
    }
  }

  /** A deadline this request armed expired (route timeout or stream idle timeout). */
  onDeadline(kind: number): void {
    if (kind === ROUTE_TIMEOUT) this.onRouteTimeout();
    else this.onIdleTimeout();
  }

  private onRouteTimeout(): void {
    this.cluster!.stats.upstream_rq_timeout++;
    const error = new UpstreamError('TIMEOUT', 'route timeout');
    const current = this.current;
    this.current = undefined;
    current?.cancel(error);
    this.fail(error, false);
  }

  /** Envoy's stream idle timeout: 408 before a response started, else a reset; flag SI. */
  private onIdleTimeout(): void {
    const current = this.current;
    this.current = undefined;
    current?.cancel(new UpstreamError('TIMEOUT', 'stream idle timeout'));
    this.stream.localReply(408, 'stream timeout', ResponseFlag.StreamIdleTimeout);
  }

  private onStreamComplete(): void {
    if (this.routeDeadline) this.deadlines.disarm(this.routeDeadline);
    if (this.idleDeadline) this.deadlines.disarm(this.idleDeadline);
    const current = this.current;
    this.current = undefined;
    current?.cancel(new UpstreamError('CANCELLED', 'downstream went away'));
  }

  onDownstreamGone(): void {
    this.stream.addFlag(ResponseFlag.DownstreamConnectionTermination);
    this.stream.complete();
  }
}

/** Drops a mirrored response. */
const DISCARD: UpstreamHandler = {
  onHeaders() {},
  onData: () => true,
  onEnd() {},
  onError() {},
};

/** Envoy's `, transport failure reason: ...` suffix for TLS failures (handshake, peer identity, missing secret). */
function transportFailure(error: UpstreamError): string {
  return error.cause instanceof UpstreamTlsError ? `, transport failure reason: ${error.cause.message}` : '';
}
