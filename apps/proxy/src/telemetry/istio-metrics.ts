/**
 * Istio's standard metrics, named and labelled as Istio's proxies export
 * them (https://istio.io/latest/docs/reference/config/metrics/) so existing
 * dashboards and alerts work: `istio_requests_total`,
 * `istio_request_duration_milliseconds`, `istio_request_bytes`,
 * `istio_response_bytes`, `istio_tcp_sent_bytes_total`,
 * `istio_tcp_received_bytes_total`, `istio_tcp_connections_opened_total`,
 * `istio_tcp_connections_closed_total`.
 *
 * Cheap on the request path, in two levels: the peer labels of a request
 * (reporter, source, destination, service, security policy) resolve once to
 * an `IstioRequestLabels` the caller caches (proxy-telemetry.ts keys it by
 * cluster, endpoint and peer); under it, the series of one (response code,
 * flags, protocol, grpc status) is found by comparing a few fields, with no
 * string key or attribute object per request. Counters and histograms are
 * @weft/telemetry's series families, rendered as Prometheus text by `text()`
 * at scrape time; OpenTelemetry's SDK is not on
 * the request path.
 */
import { type CounterSeries, type HistogramSeries, SeriesCounter, SeriesHistogram } from '@weft/telemetry';
import type { WorkloadLabels } from './workload-identity.ts';

/** Envoy/Istio duration buckets (ms). */
const DURATION_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000,
];
const BYTE_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

/** Who is on each side of a request or TCP session, and how the connection was secured. */
export interface IstioPeers {
  readonly reporter: 'source' | 'destination';
  readonly source: WorkloadLabels;
  readonly destination: WorkloadLabels;
  readonly service: { readonly service: string; readonly name: string; readonly namespace: string };
  readonly connectionSecurityPolicy: 'mutual_tls' | 'none' | 'unknown';
}

/** The labels both metric families share. */
export interface IstioLabelInput extends IstioPeers {
  readonly responseFlags: string;
}

/** One finished HTTP request, in full (tests and callers without a cached label set). */
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

/** The series of one full label set of the request metrics. */
export interface IstioRequestSeries {
  readonly responseCode: number;
  readonly responseFlags: string;
  readonly requestProtocol: 'http' | 'grpc';
  readonly grpcResponseStatus: string;
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
  readonly requestBytes: HistogramSeries;
  readonly responseBytes: HistogramSeries;
}

interface TcpEntry {
  readonly sent: CounterSeries;
  readonly received: CounterSeries;
  readonly opened: CounterSeries;
  readonly closed: CounterSeries;
}

function peerAttributes(peers: IstioPeers): Record<string, string> {
  return {
    reporter: peers.reporter,
    source_workload: peers.source.workload,
    source_workload_namespace: peers.source.namespace,
    source_principal: peers.source.principal,
    source_app: peers.source.app,
    source_version: peers.source.version,
    destination_workload: peers.destination.workload,
    destination_workload_namespace: peers.destination.namespace,
    destination_principal: peers.destination.principal,
    destination_app: peers.destination.app,
    destination_version: peers.destination.version,
    destination_service: peers.service.service,
    destination_service_name: peers.service.name,
    destination_service_namespace: peers.service.namespace,
  };
}

function peersKey(peers: IstioPeers): string {
  const s = peers.source;
  const d = peers.destination;
  return `${peers.reporter}|${s.workload}|${s.namespace}|${s.principal}|${s.app}|${s.version}|${d.workload}|${d.namespace}|${d.principal}|${d.app}|${d.version}|${peers.service.service}|${peers.service.name}|${peers.service.namespace}|${peers.connectionSecurityPolicy}`;
}

/**
 * The request series under one set of peer labels. Safe to cache for the
 * process's lifetime: `IstioMetrics.requestLabels` returns the same object
 * for equal peers, so no two series ever carry the same labels.
 */
export class IstioRequestLabels {
  private readonly metrics: IstioMetrics;
  private readonly peers: Record<string, string>;
  private readonly securityPolicy: string;
  /** Series by response code; a code's list is short (its flag/protocol/grpc combinations). */
  private readonly byCode = new Map<number, IstioRequestSeries[]>();
  private last: IstioRequestSeries | undefined;

  constructor(metrics: IstioMetrics, peers: IstioPeers) {
    this.metrics = metrics;
    this.peers = peerAttributes(peers);
    this.securityPolicy = peers.connectionSecurityPolicy;
  }

  /** The series of one outcome under these peers (created on first use). */
  series(
    responseCode: number,
    responseFlags: string,
    requestProtocol: 'http' | 'grpc',
    grpcResponseStatus: string,
  ): IstioRequestSeries {
    const last = this.last;
    if (
      last !== undefined &&
      last.responseCode === responseCode &&
      last.responseFlags === responseFlags &&
      last.requestProtocol === requestProtocol &&
      last.grpcResponseStatus === grpcResponseStatus
    )
      return last;
    let list = this.byCode.get(responseCode);
    if (list === undefined) {
      list = [];
      this.byCode.set(responseCode, list);
    }
    for (const s of list) {
      if (
        s.responseFlags === responseFlags &&
        s.requestProtocol === requestProtocol &&
        s.grpcResponseStatus === grpcResponseStatus
      ) {
        this.last = s;
        return s;
      }
    }
    const attributes = {
      ...this.peers,
      response_flags: responseFlags,
      connection_security_policy: this.securityPolicy,
      response_code: String(responseCode),
      request_protocol: requestProtocol,
      grpc_response_status: grpcResponseStatus,
    };
    const created = this.metrics.createRequestSeries(attributes, {
      responseCode,
      responseFlags,
      requestProtocol,
      grpcResponseStatus,
    });
    list.push(created);
    this.last = created;
    return created;
  }
}

export class IstioMetrics {
  private readonly labelSets = new Map<string, IstioRequestLabels>();
  private readonly tcp = new Map<string, TcpEntry>();
  private readonly requests = new SeriesCounter('istio_requests_total', 'Requests handled by the proxy');
  private readonly duration = new SeriesHistogram(
    'istio_request_duration_milliseconds',
    'Request duration in milliseconds',
    DURATION_BUCKETS,
  );
  private readonly requestBytes = new SeriesHistogram(
    'istio_request_bytes',
    'Request body bytes (Content-Length when the body was not counted)',
    BYTE_BUCKETS,
  );
  private readonly responseBytes = new SeriesHistogram(
    'istio_response_bytes',
    'Response body bytes sent downstream',
    BYTE_BUCKETS,
  );
  private readonly tcpSent = new SeriesCounter(
    'istio_tcp_sent_bytes_total',
    'Bytes sent downstream on TCP connections',
  );
  private readonly tcpReceived = new SeriesCounter(
    'istio_tcp_received_bytes_total',
    'Bytes received from downstream on TCP connections',
  );
  private readonly tcpOpened = new SeriesCounter(
    'istio_tcp_connections_opened_total',
    'TCP connections opened',
  );
  private readonly tcpClosed = new SeriesCounter(
    'istio_tcp_connections_closed_total',
    'TCP connections closed',
  );

  /**
   * The label set of `peers`: the same object for equal peers (built on
   * first use, a string key per call). Callers cache the result by
   * something cheaper (cluster, endpoint) and call `series()` per request.
   */
  requestLabels(peers: IstioPeers): IstioRequestLabels {
    const key = peersKey(peers);
    let labels = this.labelSets.get(key);
    if (labels === undefined) {
      labels = new IstioRequestLabels(this, peers);
      this.labelSets.set(key, labels);
    }
    return labels;
  }

  /** Internal to IstioRequestLabels: the four series of one full label set. */
  createRequestSeries(
    attributes: Readonly<Record<string, string>>,
    outcome: Pick<
      IstioRequestSeries,
      'responseCode' | 'responseFlags' | 'requestProtocol' | 'grpcResponseStatus'
    >,
  ): IstioRequestSeries {
    return {
      ...outcome,
      requests: this.requests.createSeries(attributes),
      duration: this.duration.createSeries(attributes),
      requestBytes: this.requestBytes.createSeries(attributes),
      responseBytes: this.responseBytes.createSeries(attributes),
    };
  }

  /** Counts one finished HTTP request on its series. */
  observe(series: IstioRequestSeries, durationMs: number, requestBytes: number, responseBytes: number): void {
    series.requests.value++;
    this.duration.observe(series.duration, durationMs);
    this.requestBytes.observe(series.requestBytes, requestBytes);
    this.responseBytes.observe(series.responseBytes, responseBytes);
  }

  /** Counts one finished HTTP request given in full (resolves its labels; not for the hot path). */
  recordRequest(request: IstioRequest): void {
    const series = this.requestLabels(request).series(
      request.responseCode,
      request.responseFlags,
      request.requestProtocol,
      request.grpcResponseStatus,
    );
    this.observe(series, request.durationMs, request.requestBytes, request.responseBytes);
  }

  /**
   * Counts one finished TCP session: opened and closed both count at close
   * (the TCP proxy reports sessions when they end), bytes in each direction.
   */
  recordTcpSession(session: IstioTcpSession): void {
    const key = `${peersKey(session)}|${session.responseFlags}`;
    let entry = this.tcp.get(key);
    if (entry === undefined) {
      const attributes = {
        ...peerAttributes(session),
        response_flags: session.responseFlags,
        connection_security_policy: session.connectionSecurityPolicy,
        request_protocol: 'tcp',
      };
      entry = {
        sent: this.tcpSent.createSeries(attributes),
        received: this.tcpReceived.createSeries(attributes),
        opened: this.tcpOpened.createSeries(attributes),
        closed: this.tcpClosed.createSeries(attributes),
      };
      this.tcp.set(key, entry);
    }
    entry.opened.value++;
    entry.closed.value++;
    entry.sent.value += session.sentBytes;
    entry.received.value += session.receivedBytes;
  }

  /** Every Istio metric family with at least one series, in the Prometheus text format. */
  text(): string {
    return (
      this.requests.render() +
      this.duration.render() +
      this.requestBytes.render() +
      this.responseBytes.render() +
      this.tcpSent.render() +
      this.tcpReceived.render() +
      this.tcpOpened.render() +
      this.tcpClosed.render()
    );
  }
}
