/**
 * Per-request and per-TCP-session telemetry: Istio's standard metrics
 * (istio-metrics.ts), Weft's own per-cluster counters and duration
 * histogram, trace context propagation (trace-context.ts), and an optional
 * access log line in Envoy's vocabulary.
 */
import type { MetricsRegistry } from '@weft/telemetry';
import type { HttpStream } from '../http/http-stream.ts';
import type { TcpSessionRecord } from '../tcp/tcp-proxy.ts';
import { peerIdentityOf } from '../tls/tls-runtime.ts';
import { IstioMetrics } from './istio-metrics.ts';
import type { SpanExport } from './span-export.ts';
import { startSpan, type TraceSpan } from './trace-context.ts';
import {
  clusterServiceHost,
  serviceLabels,
  UNKNOWN,
  UNKNOWN_WORKLOAD,
  type WorkloadLabels,
} from './workload-identity.ts';

type Meter = MetricsRegistry['meter'];
type Counter = ReturnType<Meter['createCounter']>;
type Histogram = ReturnType<Meter['createHistogram']>;

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
  /** Request body bytes (Content-Length; 0 when chunked). */
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

/** What the proxy knows of itself for telemetry, and how it samples traces. */
export interface TelemetryIdentity {
  readonly local: WorkloadLabels;
  /** Share of new traces sampled, 0..1 (default 1). */
  readonly traceSampleRate?: number;
  readonly random?: () => number;
  /** Where sampled spans go; none when undefined. */
  readonly spanExport?: SpanExport;
}

interface RequestCount {
  readonly attributes: {
    readonly cluster: string;
    readonly response_code: string;
    readonly response_flags: string;
  };
  count: number;
}

export class ProxyTelemetry {
  /**
   * Request counts by (cluster, code, flags), read by an observable counter
   * at scrape time: one Map increment per request instead of the SDK's
   * attribute hashing.
   */
  private readonly requestCounts = new Map<string, RequestCount>();
  private readonly duration: Histogram;
  private readonly tcpSessions: Counter;
  private readonly tcpBytes: Counter;
  private readonly accessLog: ((record: AccessLogRecord) => void) | undefined;
  private readonly now: () => number;
  private readonly istio: IstioMetrics;
  private readonly local: WorkloadLabels;
  private readonly sampleRate: number;
  private readonly random: () => number;
  private readonly spans = new WeakMap<HttpStream, TraceSpan>();
  private readonly spanExport: SpanExport | undefined;

  constructor(
    metrics: MetricsRegistry,
    now: () => number,
    accessLog?: (record: AccessLogRecord) => void,
    identity?: TelemetryIdentity,
  ) {
    const meter = metrics.meter;
    this.istio = new IstioMetrics(metrics);
    this.local = identity?.local ?? UNKNOWN_WORKLOAD;
    this.sampleRate = identity?.traceSampleRate ?? 1;
    this.random = identity?.random ?? Math.random;
    this.spanExport = identity?.spanExport;
    meter
      .createObservableCounter('weft_proxy_requests_total', {
        description: 'HTTP requests by upstream cluster, response code and response flags',
      })
      .addCallback((result) => {
        for (const entry of this.requestCounts.values()) result.observe(entry.count, entry.attributes);
      });
    this.duration = meter.createHistogram('weft_proxy_request_duration_milliseconds', {
      description: 'HTTP request duration from first byte to completion',
      unit: 'ms',
    });
    this.tcpSessions = meter.createCounter('weft_proxy_tcp_connections_closed_total', {
      description: 'TCP proxy sessions by cluster and response flags',
    });
    this.tcpBytes = meter.createCounter('weft_proxy_tcp_bytes_total', {
      description: 'TCP proxy bytes by cluster and direction',
    });
    this.accessLog = accessLog;
    this.now = now;
  }

  /** Flushes and stops span export (call on shutdown). */
  close(): Promise<void> {
    return this.spanExport?.close() ?? Promise.resolve();
  }

  /** Istio's request histograms as Prometheus text (appended to the registry's scrape). */
  istioHistogramText(): string {
    return this.istio.histogramText();
  }

  /** Opens the request's span: trace headers are rewritten before routing copies them upstream. */
  onStreamStart(stream: HttpStream): void {
    this.spans.set(stream, startSpan(stream.req.headers, this.sampleRate, this.random));
  }

  onStreamComplete(stream: HttpStream): void {
    const durationMs = this.now() - stream.startTime;
    const flags = stream.flagsText();
    const cluster = stream.clusterName || '-';
    const key = `${cluster}\u0000${stream.status}\u0000${flags}`;
    let entry = this.requestCounts.get(key);
    if (!entry) {
      entry = {
        attributes: { cluster, response_code: String(stream.status), response_flags: flags },
        count: 0,
      };
      this.requestCounts.set(key, entry);
    }
    entry.count++;
    this.duration.record(durationMs, { cluster });
    const peer = peerIdentityOf(stream.req.socket);
    const requestBytes = Number(stream.req.headers['content-length'] ?? 0) || 0;
    const upstreamWorkload = stream.upstreamEndpoint?.workload;
    const inbound = stream.listener.trafficDirection === 'INBOUND';
    this.istio.recordRequest({
      reporter: inbound ? 'destination' : 'source',
      source: inbound ? { ...UNKNOWN_WORKLOAD, principal: peer?.principal ?? UNKNOWN } : this.local,
      destination: inbound ? this.local : (upstreamWorkload ?? UNKNOWN_WORKLOAD),
      service: serviceLabels(
        inbound ? stream.authority : (clusterServiceHost(cluster) ?? stream.authority),
        this.local.namespace,
      ),
      responseFlags: flags,
      connectionSecurityPolicy: inbound ? (peer?.authenticated ? 'mutual_tls' : 'none') : 'unknown',
      responseCode: stream.status,
      requestProtocol: stream.isGrpc ? 'grpc' : 'http',
      // The upstream's grpc-status travels in trailers the proxy passes through unread.
      grpcResponseStatus: '',
      durationMs,
      requestBytes,
      responseBytes: stream.bytesSent,
    });
    const span = this.spans.get(stream);
    if (span && this.spanExport) {
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
          upstream_cluster: cluster,
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
      upstream_cluster: cluster,
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
    this.tcpSessions.add(1, { cluster, response_flags: record.flags });
    this.tcpBytes.add(record.receivedBytes, { cluster, direction: 'received' });
    this.tcpBytes.add(record.sentBytes, { cluster, direction: 'sent' });
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
