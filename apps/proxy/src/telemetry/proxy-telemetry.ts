/**
 * Per-request and per-TCP-session telemetry: Istio's standard metrics
 * (istio-metrics.ts), Weft's own per-cluster counters and duration
 * histogram, trace context propagation (trace-context.ts), and an optional
 * access log line in Envoy's vocabulary.
 *
 * The request path records into @weft/telemetry's series families (found
 * through request-series-cache.ts): a few Map
 * lookups and additions per request, no attribute object, no string key;
 * everything renders as Prometheus text at scrape time (`text()`, appended
 * to the OpenTelemetry registry's output). Trace context lives in the
 * request's headers (trace-context.ts); a span object is read back from
 * them only when something wants it (access log, span export).
 */
import { type CounterSeries, type MetricsRegistry, SeriesCounter, SeriesHistogram } from '@weft/telemetry';
import type { HttpStream } from '../http/http-stream.ts';
import type { TcpSessionRecord } from '../tcp/tcp-proxy.ts';
import { peerIdentityOf } from '../tls/tls-runtime.ts';
import { IstioMetrics } from './istio-metrics.ts';
import { RequestSeriesCache } from './request-series-cache.ts';
import type { SpanExport } from './span-export.ts';
import { propagatedSpan, propagateTrace } from './trace-context.ts';
import {
  clusterServiceHost,
  serviceLabels,
  UNKNOWN_WORKLOAD,
  type WorkloadLabels,
} from './workload-identity.ts';

/** OpenTelemetry's default histogram bounds (ms), which this histogram has always used. */
const CLUSTER_DURATION_BUCKETS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

/** One access log record (JSON); field names follow Envoy's command operators. */
export interface AccessLogRecord {
  readonly start_time: string;
  readonly method: string;
  readonly path: string;
  readonly protocol: string;
  readonly response_code: number;
  readonly response_flags: string;
  readonly bytes_sent: number;
  readonly duration_ms: number;
  readonly upstream_cluster: string;
  readonly upstream_host: string;
  readonly authority: string;
  readonly attempts: number;
  readonly listener: string;
  /** Request body bytes: as counted by the request path when it reports them (`RequestPathReport`), else Content-Length (0 when chunked). */
  readonly bytes_received: number;
  /** The verified downstream peer's SPIFFE ID (mTLS), else `-`. */
  readonly downstream_peer_principal: string;
  /** The destination workload of the upstream endpoint (discovery's metadata), else `-`. */
  readonly upstream_peer_workload: string;
  readonly trace_id: string;
  readonly span_id: string;
  readonly parent_span_id: string;
  readonly request_id: string;
}

/**
 * What the request path reports on a stream beyond the fields telemetry
 * reads today; each is used when the stream carries it:
 * - `grpcStatus`: the response's grpc-status (upstream trailers, the headers
 *   of a trailers-only response, or a local reply's mapped status) for
 *   Istio's `grpc_response_status`; '' until then.
 * - `bytesReceived`: request body bytes as they flowed downstream -> upstream
 *   (chunked and HTTP/2 bodies included); until then the Content-Length.
 */
export interface RequestPathReport {
  readonly grpcStatus?: string;
  readonly bytesReceived?: number;
}

/** A Content-Length header's value, 0 when absent or malformed. */
function contentLength(value: string | string[] | undefined): number {
  if (typeof value !== 'string') return 0;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** What the proxy knows of itself for telemetry, and how it samples traces. */
export interface TelemetryIdentity {
  readonly local: WorkloadLabels;
  /** Share of new traces sampled, 0..1 (default 1). */
  readonly traceSampleRate?: number;
  readonly random?: () => number;
  /** Where sampled spans go; none when undefined. */
  readonly spanExport?: SpanExport;
}

interface TcpSeries {
  readonly closedByFlags: Map<string, CounterSeries>;
  readonly received: CounterSeries;
  readonly sent: CounterSeries;
}

export class ProxyTelemetry {
  private readonly requests = new SeriesCounter(
    'weft_proxy_requests_total',
    'HTTP requests by upstream cluster, response code and response flags',
  );
  private readonly duration = new SeriesHistogram(
    'weft_proxy_request_duration_milliseconds',
    'HTTP request duration from first byte to completion',
    CLUSTER_DURATION_BUCKETS,
  );
  private readonly tcpSessions = new SeriesCounter(
    'weft_proxy_tcp_connections_closed_total',
    'TCP proxy sessions by cluster and response flags',
  );
  private readonly tcpBytes = new SeriesCounter(
    'weft_proxy_tcp_bytes_total',
    'TCP proxy bytes by cluster and direction',
  );
  private readonly tcp = new Map<string, TcpSeries>();
  private readonly series: RequestSeriesCache;
  private readonly accessLog: ((record: AccessLogRecord) => void) | undefined;
  private readonly now: () => number;
  private readonly istio = new IstioMetrics();
  private readonly local: WorkloadLabels;
  private readonly sampleRate: number;
  private readonly random: () => number;
  /** An access log or span export reads each request's span. */
  private readonly readsSpans: boolean;
  private readonly spanExport: SpanExport | undefined;

  /** Appends this proxy's metrics (`text()`) to `metrics`' scrape; nothing is recorded through its meter. */
  constructor(
    metrics: MetricsRegistry,
    now: () => number,
    accessLog?: (record: AccessLogRecord) => void,
    identity?: TelemetryIdentity,
  ) {
    this.local = identity?.local ?? UNKNOWN_WORKLOAD;
    this.sampleRate = identity?.traceSampleRate ?? 1;
    this.random = identity?.random ?? Math.random;
    this.spanExport = identity?.spanExport;
    this.series = new RequestSeriesCache(this.istio, this.local, this.requests, this.duration);
    this.accessLog = accessLog;
    this.readsSpans = accessLog !== undefined || this.spanExport !== undefined;
    this.now = now;
    metrics.addText(() => this.text());
  }

  /** Flushes and stops span export (call on shutdown). */
  close(): Promise<void> {
    return this.spanExport?.close() ?? Promise.resolve();
  }

  /** Every request and TCP metric of this proxy as Prometheus text (the registry appends it to its scrape). */
  text(): string {
    return (
      this.requests.render() +
      this.duration.render() +
      this.tcpSessions.render() +
      this.tcpBytes.render() +
      this.istio.text()
    );
  }

  /** Opens the request's span: trace headers are rewritten before routing copies them upstream. */
  onStreamStart(stream: HttpStream): void {
    propagateTrace(stream.req.headers, this.sampleRate, this.random);
  }

  onStreamComplete(stream: HttpStream): void {
    const durationMs = this.now() - stream.startTime;
    const flags = stream.flagsText();
    const status = stream.status;
    const cluster = this.series.cluster(stream.clusterName || '-');
    cluster.count(status, flags);
    this.duration.observe(cluster.duration, durationMs);
    const inbound = stream.listener.trafficDirection === 'INBOUND';
    const peer = inbound || this.accessLog !== undefined ? peerIdentityOf(stream.req.socket) : undefined;
    const upstreamWorkload = stream.upstreamEndpoint?.workload;
    const labels = inbound
      ? this.series.inboundLabels(stream.authority, peer)
      : this.series.outbound(cluster, upstreamWorkload, stream.authority);
    const reported = stream as HttpStream & RequestPathReport;
    const series = stream.isGrpc
      ? labels.series(status, flags, 'grpc', reported.grpcStatus ?? '')
      : labels.series(status, flags, 'http', '');
    const requestBytes = reported.bytesReceived ?? contentLength(stream.req.headers['content-length']);
    this.istio.observe(series, durationMs, requestBytes, stream.bytesSent);
    if (!this.readsSpans) return;
    // No span object for an unsampled request unless the access log prints its ids.
    const exported = this.spanExport !== undefined && stream.req.headers['x-b3-sampled'] === '1';
    if (!exported && !this.accessLog) return;
    const span = propagatedSpan(stream.req.headers);
    if (exported && span && this.spanExport) {
      const path = stream.path.split('?')[0] ?? stream.path;
      this.spanExport.record({
        span,
        inbound,
        name: `${stream.authority}${path}`,
        startTimeMs: stream.startTime,
        endTimeMs: stream.startTime + durationMs,
        status: stream.status,
        attributes: {
          'http.method': stream.method,
          'http.url': `http://${stream.authority}${stream.path}`,
          'http.status_code': stream.status,
          upstream_cluster: cluster.name,
          response_flags: flags,
          node_id: this.local.workload,
        },
      });
    }
    if (!this.accessLog) return;
    const requestId = stream.req.headers['x-request-id'];
    this.accessLog({
      start_time: new Date(stream.startTime).toISOString(),
      method: stream.method,
      path: stream.path,
      protocol: stream.req.httpVersionMajor === 2 ? 'HTTP/2' : 'HTTP/1.1',
      response_code: stream.status,
      response_flags: flags,
      bytes_sent: stream.bytesSent,
      duration_ms: Math.round(durationMs),
      upstream_cluster: cluster.name,
      upstream_host: stream.upstreamHost || '-',
      authority: stream.authority,
      attempts: stream.attempts,
      listener: stream.listener.name,
      bytes_received: requestBytes,
      downstream_peer_principal: peer?.principal ?? '-',
      upstream_peer_workload: upstreamWorkload
        ? `${upstreamWorkload.workload}.${upstreamWorkload.namespace}`
        : '-',
      trace_id: span?.traceId ?? '-',
      span_id: span?.spanId ?? '-',
      parent_span_id: span?.parentSpanId ?? '-',
      request_id: typeof requestId === 'string' ? requestId : '-',
    });
  }

  onTcpSessionComplete(record: TcpSessionRecord): void {
    const cluster = record.cluster || '-';
    let tcp = this.tcp.get(cluster);
    if (tcp === undefined) {
      tcp = {
        closedByFlags: new Map(),
        received: this.tcpBytes.createSeries({ cluster, direction: 'received' }),
        sent: this.tcpBytes.createSeries({ cluster, direction: 'sent' }),
      };
      this.tcp.set(cluster, tcp);
    }
    let closed = tcp.closedByFlags.get(record.flags);
    if (closed === undefined) {
      closed = this.tcpSessions.createSeries({ cluster, response_flags: record.flags });
      tcp.closedByFlags.set(record.flags, closed);
    }
    closed.value++;
    tcp.received.value += record.receivedBytes;
    tcp.sent.value += record.sentBytes;
    const inbound = cluster.startsWith('inbound|');
    this.istio.recordTcpSession({
      reporter: inbound ? 'destination' : 'source',
      source: inbound ? UNKNOWN_WORKLOAD : this.local,
      destination: inbound ? this.local : UNKNOWN_WORKLOAD,
      service: serviceLabels(clusterServiceHost(cluster), this.local.namespace),
      responseFlags: record.flags,
      connectionSecurityPolicy: 'unknown',
      sentBytes: record.sentBytes,
      receivedBytes: record.receivedBytes,
    });
  }
}
