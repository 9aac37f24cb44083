/**
 * Istio's standard metrics, named and labelled as Istio's proxies export
 * them (https://istio.io/latest/docs/reference/config/metrics/) so existing
 * dashboards and alerts work: `istio_requests_total`,
 * `istio_request_duration_milliseconds`, `istio_request_bytes`,
 * `istio_response_bytes`, `istio_tcp_sent_bytes_total`,
 * `istio_tcp_received_bytes_total`, `istio_tcp_connections_opened_total`,
 * `istio_tcp_connections_closed_total`.
 *
 * Cheap on the request path: each distinct label set is built once and
 * cached under a string key; counters are plain numbers in that cache, read
 * by OpenTelemetry observable counters at scrape time; the three histograms
 * are series-histogram.ts series kept in the same cache entry, rendered by
 * `histogramText()` (the proxy appends it to the exporter's output).
 */
import type { MetricsRegistry } from '@weft/telemetry';
import { type HistogramSeries, SeriesHistogram } from './series-histogram.ts';
import type { WorkloadLabels } from './workload-identity.ts';

type Attributes = Readonly<Record<string, string>>;

/** Envoy/Istio duration buckets (ms). */
const DURATION_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000,
];
const BYTE_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

/** The labels both metric families share. */
export interface IstioLabelInput {
  readonly reporter: 'source' | 'destination';
  readonly source: WorkloadLabels;
  readonly destination: WorkloadLabels;
  readonly service: { readonly service: string; readonly name: string; readonly namespace: string };
  readonly responseFlags: string;
  readonly connectionSecurityPolicy: 'mutual_tls' | 'none' | 'unknown';
}

export interface IstioRequest extends IstioLabelInput {
  readonly responseCode: number;
  readonly requestProtocol: 'http' | 'grpc';
  readonly grpcResponseStatus: string;
  readonly durationMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface IstioTcpSession extends IstioLabelInput {
  readonly sentBytes: number;
  readonly receivedBytes: number;
}

interface RequestEntry {
  readonly attributes: Attributes;
  requests: number;
  readonly duration: HistogramSeries;
  readonly requestBytes: HistogramSeries;
  readonly responseBytes: HistogramSeries;
}

interface TcpEntry {
  readonly attributes: Attributes;
  opened: number;
  closed: number;
  sent: number;
  received: number;
}

function commonAttributes(input: IstioLabelInput): Record<string, string> {
  return {
    reporter: input.reporter,
    source_workload: input.source.workload,
    source_workload_namespace: input.source.namespace,
    source_principal: input.source.principal,
    source_app: input.source.app,
    source_version: input.source.version,
    destination_workload: input.destination.workload,
    destination_workload_namespace: input.destination.namespace,
    destination_principal: input.destination.principal,
    destination_app: input.destination.app,
    destination_version: input.destination.version,
    destination_service: input.service.service,
    destination_service_name: input.service.name,
    destination_service_namespace: input.service.namespace,
    response_flags: input.responseFlags,
    connection_security_policy: input.connectionSecurityPolicy,
  };
}

function commonKey(input: IstioLabelInput): string {
  const s = input.source;
  const d = input.destination;
  return `${input.reporter}|${s.workload}|${s.namespace}|${s.principal}|${s.app}|${s.version}|${d.workload}|${d.namespace}|${d.principal}|${d.app}|${d.version}|${input.service.service}|${input.service.name}|${input.service.namespace}|${input.responseFlags}|${input.connectionSecurityPolicy}`;
}

export class IstioMetrics {
  private readonly requests = new Map<string, RequestEntry>();
  private readonly tcp = new Map<string, TcpEntry>();
  private readonly duration = new SeriesHistogram(
    'istio_request_duration_milliseconds',
    'Request duration in milliseconds',
    DURATION_BUCKETS,
  );
  private readonly requestBytes = new SeriesHistogram(
    'istio_request_bytes',
    'Request body size (Content-Length; 0 for chunked bodies)',
    BYTE_BUCKETS,
  );
  private readonly responseBytes = new SeriesHistogram(
    'istio_response_bytes',
    'Response body bytes sent downstream',
    BYTE_BUCKETS,
  );

  constructor(metrics: MetricsRegistry) {
    const meter = metrics.meter;
    meter
      .createObservableCounter('istio_requests_total', { description: 'Requests handled by the proxy' })
      .addCallback((result) => {
        for (const entry of this.requests.values()) result.observe(entry.requests, entry.attributes);
      });
    const tcpCounter = (name: string, description: string, read: (entry: TcpEntry) => number) =>
      meter.createObservableCounter(name, { description }).addCallback((result) => {
        for (const entry of this.tcp.values()) result.observe(read(entry), entry.attributes);
      });
    tcpCounter('istio_tcp_sent_bytes_total', 'Bytes sent downstream on TCP connections', (e) => e.sent);
    tcpCounter(
      'istio_tcp_received_bytes_total',
      'Bytes received from downstream on TCP connections',
      (e) => e.received,
    );
    tcpCounter('istio_tcp_connections_opened_total', 'TCP connections opened', (e) => e.opened);
    tcpCounter('istio_tcp_connections_closed_total', 'TCP connections closed', (e) => e.closed);
  }

  /** Counts one finished HTTP request. */
  recordRequest(request: IstioRequest): void {
    const key = `${commonKey(request)}|${request.responseCode}|${request.requestProtocol}|${request.grpcResponseStatus}`;
    let entry = this.requests.get(key);
    if (!entry) {
      const attributes = Object.freeze({
        ...commonAttributes(request),
        response_code: String(request.responseCode),
        request_protocol: request.requestProtocol,
        grpc_response_status: request.grpcResponseStatus,
      });
      entry = {
        attributes,
        requests: 0,
        duration: this.duration.createSeries(attributes),
        requestBytes: this.requestBytes.createSeries(attributes),
        responseBytes: this.responseBytes.createSeries(attributes),
      };
      this.requests.set(key, entry);
    }
    entry.requests++;
    this.duration.observe(entry.duration, request.durationMs);
    this.requestBytes.observe(entry.requestBytes, request.requestBytes);
    this.responseBytes.observe(entry.responseBytes, request.responseBytes);
  }

  /** The three request histograms in the Prometheus text format. */
  histogramText(): string {
    return this.duration.render() + this.requestBytes.render() + this.responseBytes.render();
  }

  /**
   * Counts one finished TCP session: opened and closed both count at close
   * (the TCP proxy reports sessions when they end), bytes in each direction.
   */
  recordTcpSession(session: IstioTcpSession): void {
    const key = commonKey(session);
    let entry = this.tcp.get(key);
    if (!entry) {
      entry = {
        attributes: Object.freeze({ ...commonAttributes(session), request_protocol: 'tcp' }),
        opened: 0,
        closed: 0,
        sent: 0,
        received: 0,
      };
      this.tcp.set(key, entry);
    }
    entry.opened++;
    entry.closed++;
    entry.sent += session.sentBytes;
    entry.received += session.receivedBytes;
  }
}
