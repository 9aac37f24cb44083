/**
 * Per-request and per-TCP-session telemetry: counters and a duration
 * histogram on the process MetricsRegistry (Istio's standard names come in
 * a later issue), and an optional access log line in Envoy's vocabulary.
 */
import type { MetricsRegistry } from '@weft/telemetry';
import type { HttpStream } from '../http/http-stream.ts';
import type { TcpSessionRecord } from '../tcp/tcp-proxy.ts';

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

  constructor(metrics: MetricsRegistry, now: () => number, accessLog?: (record: AccessLogRecord) => void) {
    const meter = metrics.meter;
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
    this.accessLog?.({
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
    });
  }

  onTcpSessionComplete(record: TcpSessionRecord): void {
    const cluster = record.cluster || '-';
    this.tcpSessions.add(1, { cluster, response_flags: record.flags });
    this.tcpBytes.add(record.receivedBytes, { cluster, direction: 'received' });
    this.tcpBytes.add(record.sentBytes, { cluster, direction: 'sent' });
  }
}
