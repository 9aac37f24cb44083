import { createMetrics } from '@weft/telemetry';
import { describe, expect, it } from 'vitest';
import type { HttpStream } from '../http/http-stream.ts';
import type { TcpSessionRecord } from '../tcp/tcp-proxy.ts';
import { samples, sampleValue } from '../testing/prometheus-samples.ts';
import { type AccessLogRecord, ProxyTelemetry } from './proxy-telemetry.ts';
import { MAX_CACHED } from './request-series-cache.ts';
import type { FinishedRequest, SpanExport } from './span-export.ts';
import type { WorkloadLabels } from './workload-identity.ts';

const PEER = Symbol.for('weft.peerIdentity');
const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';

function workload(name: string, version = 'v1'): WorkloadLabels {
  return { workload: name, namespace: 'default', app: name.split('-')[0]!, version, principal: 'unknown' };
}

const LOCAL = workload('productpage-v1');

interface StreamSpec {
  readonly inbound?: boolean;
  readonly cluster?: string;
  readonly authority?: string;
  readonly status?: number;
  readonly flags?: string;
  readonly endpoint?: WorkloadLabels;
  readonly peer?: { principal: string; authenticated: boolean };
  readonly headers?: Record<string, string>;
  readonly grpc?: boolean;
  readonly bytesSent?: number;
  readonly startTime?: number;
  /** What the request path reports (RequestPathReport). */
  readonly grpcStatus?: string;
  readonly bytesReceived?: number;
}

/** The fields of a finished HttpStream telemetry reads. */
function finishedStream(spec: StreamSpec = {}): HttpStream {
  const socket: Record<symbol, unknown> = {};
  if (spec.peer) socket[PEER] = spec.peer;
  return {
    req: { headers: { ...spec.headers }, socket, httpVersionMajor: 1 },
    listener: { name: 'l', trafficDirection: spec.inbound ? 'INBOUND' : 'OUTBOUND' },
    startTime: spec.startTime ?? 0,
    status: spec.status ?? 200,
    clusterName: spec.cluster ?? REVIEWS,
    authority: spec.authority ?? 'reviews:9080',
    upstreamEndpoint: spec.endpoint ? { workload: spec.endpoint } : undefined,
    upstreamHost: '127.0.0.1:9080',
    isGrpc: spec.grpc ?? false,
    method: 'GET',
    path: '/reviews/0?x=1',
    bytesSent: spec.bytesSent ?? 100,
    attempts: 1,
    flagsText: () => spec.flags ?? '-',
    ...(spec.grpcStatus === undefined ? {} : { grpcStatus: spec.grpcStatus }),
    ...(spec.bytesReceived === undefined ? {} : { bytesReceived: spec.bytesReceived }),
  } as unknown as HttpStream;
}

function telemetry(options: { now?: number; accessLog?: (r: AccessLogRecord) => void } = {}): ProxyTelemetry {
  return new ProxyTelemetry(
    createMetrics({ serviceName: 'test' }),
    () => options.now ?? 4,
    options.accessLog,
    {
      local: LOCAL,
    },
  );
}

function serve(t: ProxyTelemetry, spec: StreamSpec = {}): HttpStream {
  const stream = finishedStream(spec);
  t.onStreamStart(stream);
  t.onStreamComplete(stream);
  return stream;
}

describe('ProxyTelemetry request metrics', () => {
  it('counts requests per cluster, code and flags, and their durations', () => {
    const t = telemetry({ now: 7 });
    serve(t);
    serve(t);
    serve(t, { status: 503, flags: 'UF' });
    serve(t, { cluster: '', status: 404, flags: 'NR' });
    const text = t.text();
    expect(
      sampleValue(samples(text, 'weft_proxy_requests_total', { cluster: REVIEWS, response_code: '200' })[0]),
    ).toBe(2);
    expect(
      samples(text, 'weft_proxy_requests_total', { response_code: '503', response_flags: 'UF' }),
    ).toHaveLength(1);
    expect(samples(text, 'weft_proxy_requests_total', { cluster: '-', response_flags: 'NR' })).toHaveLength(
      1,
    );
    expect(
      sampleValue(
        samples(text, 'weft_proxy_request_duration_milliseconds_bucket', { cluster: REVIEWS, le: '5' })[0],
      ),
    ).toBe(0);
    expect(
      sampleValue(
        samples(text, 'weft_proxy_request_duration_milliseconds_bucket', { cluster: REVIEWS, le: '10' })[0],
      ),
    ).toBe(3);
    expect(
      sampleValue(samples(text, 'weft_proxy_request_duration_milliseconds_sum', { cluster: REVIEWS })[0]),
    ).toBe(21);
  });

  const labelCases: { name: string; spec: StreamSpec; labels: Record<string, string> }[] = [
    {
      name: 'outbound: destination from the endpoint, service from the cluster',
      spec: { endpoint: workload('reviews-v2', 'v2') },
      labels: {
        reporter: 'source',
        source_workload: 'productpage-v1',
        destination_workload: 'reviews-v2',
        destination_version: 'v2',
        destination_service: 'reviews.default.svc.cluster.local',
        connection_security_policy: 'unknown',
      },
    },
    {
      name: 'outbound without endpoint metadata',
      spec: {},
      labels: { reporter: 'source', destination_workload: 'unknown', destination_service_name: 'reviews' },
    },
    {
      name: 'outbound to a non-service cluster: service from the authority',
      spec: { cluster: 'passthrough', authority: 'example.com:80' },
      labels: { destination_service: 'example.com', destination_service_namespace: 'unknown' },
    },
    {
      name: 'inbound over mTLS: source principal and mutual_tls',
      spec: {
        inbound: true,
        cluster: 'inbound|9080||',
        peer: { principal: 'spiffe://cluster.local/ns/default/sa/reviews', authenticated: true },
      },
      labels: {
        reporter: 'destination',
        source_principal: 'spiffe://cluster.local/ns/default/sa/reviews',
        destination_workload: 'productpage-v1',
        destination_service: 'reviews',
        destination_service_namespace: 'default',
        connection_security_policy: 'mutual_tls',
      },
    },
    {
      name: 'inbound plaintext',
      spec: { inbound: true, cluster: 'inbound|9080||' },
      labels: { reporter: 'destination', source_principal: 'unknown', connection_security_policy: 'none' },
    },
    {
      name: 'a gRPC request',
      spec: { grpc: true },
      labels: { request_protocol: 'grpc' },
    },
  ];
  it.each(labelCases)('labels Istio metrics: $name', ({ spec, labels }) => {
    const t = telemetry();
    serve(t, spec);
    const text = t.text();
    expect(samples(text, 'istio_requests_total', labels)).toHaveLength(1);
    expect(samples(text, 'istio_response_bytes_sum', labels)).toHaveLength(1);
  });

  it('keeps one series per label set whatever the cache keys (authorities, workload objects)', () => {
    const t = telemetry();
    const peer = { principal: 'spiffe://cluster.local/ns/default/sa/a', authenticated: true };
    serve(t, { inbound: true, cluster: 'inbound|9080||', authority: 'reviews:9080', peer });
    serve(t, { inbound: true, cluster: 'inbound|9080||', authority: 'reviews', peer });
    serve(t, { endpoint: workload('reviews-v1') });
    serve(t, { endpoint: workload('reviews-v1') });
    const text = t.text();
    const inbound = samples(text, 'istio_requests_total', { reporter: 'destination' });
    expect(inbound).toHaveLength(1);
    expect(sampleValue(inbound[0])).toBe(2);
    const outbound = samples(text, 'istio_requests_total', { reporter: 'source' });
    expect(outbound).toHaveLength(1);
    expect(sampleValue(outbound[0])).toBe(2);
    const names = text
      .split('\n')
      .filter((l) => !l.startsWith('#') && l !== '')
      .map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(new Set(names).size).toBe(names.length);
  });

  it('counts correctly past the bounded authority cache', () => {
    const t = telemetry();
    for (let i = 0; i <= MAX_CACHED + 10; i++)
      serve(t, { inbound: true, cluster: 'inbound|80||', authority: `h${i % 3}.example` });
    const text = t.text();
    const lines = samples(text, 'istio_requests_total', { reporter: 'destination' });
    expect(lines).toHaveLength(3);
    expect(lines.reduce((sum, line) => sum + sampleValue(line), 0)).toBe(MAX_CACHED + 11);
  });

  it('separates series by status and flags under one label set', () => {
    const t = telemetry();
    for (const [status, flags] of [
      [200, '-'],
      [503, 'UF'],
      [200, '-'],
      [503, 'UO'],
      [503, 'UF'],
    ] as const)
      serve(t, { status, flags });
    const text = t.text();
    expect(sampleValue(samples(text, 'istio_requests_total', { response_code: '200' })[0])).toBe(2);
    expect(
      sampleValue(samples(text, 'istio_requests_total', { response_code: '503', response_flags: 'UF' })[0]),
    ).toBe(2);
    expect(
      sampleValue(samples(text, 'istio_requests_total', { response_code: '503', response_flags: 'UO' })[0]),
    ).toBe(1);
  });
});

describe('ProxyTelemetry request path reports', () => {
  it.each([
    { name: 'a gRPC status from trailers', spec: { grpc: true, grpcStatus: '14' }, grpc: '14' },
    { name: 'a gRPC request before the request path reports one', spec: { grpc: true }, grpc: '' },
    { name: 'an HTTP request (never a gRPC status)', spec: { grpcStatus: '0' }, grpc: '' },
  ])('labels grpc_response_status for $name', ({ spec, grpc }) => {
    const t = telemetry();
    serve(t, spec);
    expect(samples(t.text(), 'istio_requests_total', { grpc_response_status: grpc })).toHaveLength(1);
  });

  it.each([
    { name: 'counted body bytes (a chunked body)', spec: { bytesReceived: 5000 }, bytes: 5000 },
    {
      name: 'Content-Length when nothing was counted',
      spec: { headers: { 'content-length': '42' } },
      bytes: 42,
    },
    {
      name: 'counted bytes over Content-Length',
      spec: { headers: { 'content-length': '42' }, bytesReceived: 40 },
      bytes: 40,
    },
    { name: 'a malformed Content-Length', spec: { headers: { 'content-length': 'x' } }, bytes: 0 },
  ])('sizes the request from $name', ({ spec, bytes }) => {
    const records: AccessLogRecord[] = [];
    const t = telemetry({ accessLog: (r) => records.push(r) });
    serve(t, spec);
    expect(sampleValue(samples(t.text(), 'istio_request_bytes_sum')[0])).toBe(bytes);
    expect(records[0]?.bytes_received).toBe(bytes);
  });
});

describe('ProxyTelemetry trace context and access log', () => {
  it('writes the propagated ids and request id into the access log', () => {
    const records: AccessLogRecord[] = [];
    const t = telemetry({ accessLog: (r) => records.push(r) });
    const stream = serve(t, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      endpoint: workload('reviews-v1'),
    });
    const headers = stream.req.headers;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: headers['x-b3-spanid'],
      parent_span_id: '00f067aa0ba902b7',
      request_id: headers['x-request-id'],
      upstream_cluster: REVIEWS,
      upstream_peer_workload: 'reviews-v1.default',
      response_code: 200,
      bytes_sent: 100,
    });
  });

  it.each([
    { name: 'a sampled request', flags: '01', exported: 1 },
    { name: 'an unsampled request', flags: '00', exported: 0 },
  ])('exports a span for $name only', ({ flags, exported }) => {
    const spans: FinishedRequest[] = [];
    const spanExport: SpanExport = { record: (r) => spans.push(r), close: async () => {} };
    const t = new ProxyTelemetry(createMetrics({ serviceName: 'test' }), () => 9, undefined, {
      local: LOCAL,
      spanExport,
    });
    const stream = serve(t, {
      headers: { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}` },
      startTime: 2,
    });
    expect(spans).toHaveLength(exported);
    if (exported === 0) return;
    expect(spans[0]).toMatchObject({
      span: {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: stream.req.headers['x-b3-spanid'],
        parentSpanId: '00f067aa0ba902b7',
        sampled: true,
      },
      inbound: false,
      name: 'reviews:9080/reviews/0',
      startTimeMs: 2,
      endTimeMs: 9,
    });
  });

  it('propagates trace headers without an access log or span export', () => {
    const t = telemetry();
    const stream = serve(t);
    expect(stream.req.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(stream.req.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('ProxyTelemetry TCP sessions', () => {
  it('counts sessions by flags and bytes by direction, one series each', () => {
    const t = telemetry();
    const session = (flags: string, sent: number): TcpSessionRecord => ({
      cluster: 'outbound|27017||mongo.default.svc.cluster.local',
      upstreamHost: '127.0.0.1:27017',
      receivedBytes: 10,
      sentBytes: sent,
      flags,
    });
    t.onTcpSessionComplete(session('-', 5));
    t.onTcpSessionComplete(session('UF', 0));
    t.onTcpSessionComplete(session('-', 7));
    const text = t.text();
    expect(
      sampleValue(samples(text, 'weft_proxy_tcp_connections_closed_total', { response_flags: '-' })[0]),
    ).toBe(2);
    expect(
      sampleValue(samples(text, 'weft_proxy_tcp_connections_closed_total', { response_flags: 'UF' })[0]),
    ).toBe(1);
    expect(samples(text, 'weft_proxy_tcp_bytes_total', { direction: 'sent' }).map(sampleValue)).toEqual([12]);
    expect(samples(text, 'weft_proxy_tcp_bytes_total', { direction: 'received' }).map(sampleValue)).toEqual([
      30,
    ]);
    expect(
      sampleValue(
        samples(text, 'istio_tcp_connections_opened_total', { destination_service_name: 'mongo' })[0],
      ),
    ).toBe(2);
  });
});
