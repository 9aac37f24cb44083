/**
 * One try of a forwarded request against one host: the upstream handler
 * of that try. It accounts the host's and cluster's counters (active,
 * pending, outcome for outlier detection), enforces the per-try timeout,
 * drains retriable responses for a retry, and streams the rest downstream
 * with backpressure.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Deadline, type DeadlineOwner } from '../upstream/deadline-queue.ts';
import type { Host } from '../upstream/host-set.ts';
import { UpstreamError } from '../upstream/upstream-errors.ts';
import type { UpstreamControl, UpstreamHandler } from '../upstream/upstream-pool.ts';
import type { ForwardedRequest } from './forwarded-request.ts';
import { HOP_BY_HOP } from './http-stream.ts';
import { ResponseFlag } from './response-flags.ts';

/** One try against one host; the upstream handler of that try. */
export class Attempt implements UpstreamHandler, DeadlineOwner {
  private readonly forward: ForwardedRequest;
  private readonly host: Host;
  private readonly startTime: number;
  control: UpstreamControl | undefined;
  /** A retriable response whose body is drained and dropped. */
  private discard = false;
  private finished = false;
  private tryDeadline: Deadline | undefined;
  private paused = false;
  private pending = true;

  constructor(forward: ForwardedRequest, host: Host) {
    this.forward = forward;
    this.host = host;
    const services = forward.stream.hcm.services;
    this.startTime = services.now();
    host.active++;
    forward.cluster!.pendingRequests++;
    const stats = forward.cluster!.stats;
    stats.upstream_rq_active++;
    stats.upstream_rq_total++;
    const perTry = forward.stream.route?.retry?.perTryTimeoutMs ?? 0;
    if (perTry > 0) {
      this.tryDeadline = new Deadline(this, 0);
      forward.deadlines.arm(this.tryDeadline, perTry);
    }
  }

  /** The request got a connection: it no longer counts against max_pending_requests. */
  onStart(): void {
    if (!this.pending) return;
    this.pending = false;
    this.forward.cluster!.pendingRequests--;
  }

  private release(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.onStart();
    if (this.tryDeadline) this.forward.deadlines.disarm(this.tryDeadline);
    this.host.active--;
    this.forward.cluster!.stats.upstream_rq_active--;
    if (this.forward.current === this) this.forward.current = undefined;
    return true;
  }

  /** Cancels this try (route timeout, downstream gone). */
  cancel(error: UpstreamError): void {
    if (!this.release()) return;
    this.control?.abort(error);
  }

  /** The per-try timeout passed. */
  onDeadline(): void {
    if (this.finished) return;
    const error = new UpstreamError('TIMEOUT', 'per-try timeout');
    this.forward.cluster!.stats.upstream_rq_timeout++;
    this.control?.abort(error);
    this.onError(error);
  }

  onHeaders(status: number, headers: Record<string, string | string[] | undefined>): void {
    if (this.finished) return;
    const forward = this.forward;
    const stream = forward.stream;
    const stats = forward.cluster!.stats;
    const klass = Math.floor(status / 100);
    if (klass === 2) stats.upstream_rq_2xx++;
    else if (klass === 3) stats.upstream_rq_3xx++;
    else if (klass === 4) stats.upstream_rq_4xx++;
    else if (klass === 5) stats.upstream_rq_5xx++;
    forward.cluster!.recordOutcome(this.host, status >= 500 ? status : 'success');
    if (forward.retriableStatus(status, headers['grpc-status'])) {
      if (forward.canRetry()) {
        this.discard = true;
        return;
      }
      stream.addFlag(ResponseFlag.UpstreamRetryLimitExceeded);
    }
    const grpcStatus = headers['grpc-status'];
    if (typeof grpcStatus === 'string') stream.grpcStatus = grpcStatus;
    stream.upstreamHost = this.host.key;
    stream.upstreamEndpoint = this.host.endpoint;
    forward.touch();
    const out: OutgoingHttpHeaders = {};
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    }
    out['x-envoy-upstream-service-time'] = String(Math.round(stream.hcm.services.now() - this.startTime));
    stream.writeHeaders(status, out);
  }

  onData(chunk: Buffer): boolean {
    if (this.finished || this.discard) return true;
    this.forward.touch();
    const stream = this.forward.stream;
    stream.bytesSent += chunk.length;
    if (stream.res.write(chunk)) return true;
    if (!this.paused) {
      this.paused = true;
      stream.res.once('drain', () => {
        this.paused = false;
        this.control?.resume();
      });
    }
    return false;
  }

  onEnd(trailers: Record<string, string | string[] | undefined>): void {
    if (!this.release()) return;
    const forward = this.forward;
    if (this.discard) {
      forward.scheduleRetry();
      return;
    }
    const stream = forward.stream;
    let any = false;
    const out: OutgoingHttpHeaders = {};
    for (const name in trailers) {
      const value = trailers[name];
      if (value !== undefined) {
        out[name] = value;
        any = true;
      }
    }
    const grpcStatus = trailers['grpc-status'];
    if (typeof grpcStatus === 'string') stream.grpcStatus = grpcStatus;
    if (any) stream.res.addTrailers(out);
    stream.finish();
  }

  onError(error: UpstreamError): void {
    if (!this.release()) return;
    const forward = this.forward;
    if (error.code === 'CANCELLED') return;
    forward.cluster!.recordOutcome(this.host, 'gateway-failure');
    if (
      !forward.stream.res.headersSent &&
      !this.discard &&
      forward.retriableError(error) &&
      forward.canRetry()
    ) {
      forward.scheduleRetry();
      return;
    }
    if (this.discard) {
      // The retriable response was being drained when its connection failed: retry if allowed.
      if (forward.canRetry()) forward.scheduleRetry();
      else forward.fail(error, true);
      return;
    }
    forward.fail(error, forward.stream.attempts > 1 && forward.retriableError(error));
  }
}
