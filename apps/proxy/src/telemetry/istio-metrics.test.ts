import { describe, expect, it } from 'vitest';
import { IstioMetrics, type IstioRequest } from './istio-metrics.ts';

function request(overrides: Partial<IstioRequest> = {}): IstioRequest {
  return {
    reporter: 'source',
    source: {
      workload: 'productpage-v1',
      namespace: 'default',
      app: 'productpage',
      version: 'v1',
      principal: 'unknown',
    },
    destination: {
      workload: 'reviews-v3',
      namespace: 'default',
      app: 'reviews',
      version: 'v3',
      principal: 'unknown',
    },
    service: { service: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' },
    responseFlags: '-',
    connectionSecurityPolicy: 'unknown',
    responseCode: 200,
    requestProtocol: 'http',
    grpcResponseStatus: '',
    durationMs: 3,
    requestBytes: 0,
    responseBytes: 120,
    ...overrides,
  };
}

describe('IstioMetrics', () => {
  it('exports Istio-named request metrics with the standard labels', () => {
    const metrics = new IstioMetrics();
    metrics.recordRequest(request());
    metrics.recordRequest(request());
    metrics.recordRequest(request({ responseCode: 503, responseFlags: 'UF' }));
    const text = metrics.text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="200"'));
    expect(line).toContain('reporter="source"');
    expect(line).toContain('source_workload="productpage-v1"');
    expect(line).toContain('destination_workload="reviews-v3"');
    expect(line).toContain('destination_version="v3"');
    expect(line).toContain('destination_service_name="reviews"');
    expect(line).toContain('request_protocol="http"');
    expect(line?.trim().endsWith(' 2')).toBe(true);
    expect(text).toMatch(/istio_requests_total\{[^}]*response_code="503"[^}]*\} 1/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*le="5"[^}]*\} 2/);
    expect(text).toContain('istio_response_bytes_sum{');
    expect(text).toContain('istio_request_bytes_count{');
  });

  it('counts TCP sessions and bytes', () => {
    const metrics = new IstioMetrics();
    const {
      responseCode: _c,
      requestProtocol: _p,
      grpcResponseStatus: _g,
      durationMs: _d,
      requestBytes: _q,
      responseBytes: _r,
      ...common
    } = request();
    metrics.recordTcpSession({ ...common, sentBytes: 10, receivedBytes: 4 });
    metrics.recordTcpSession({ ...common, sentBytes: 5, receivedBytes: 1 });
    const text = metrics.text();
    expect(text).toMatch(/istio_tcp_sent_bytes_total\{[^}]*request_protocol="tcp"[^}]*\} 15/);
    expect(text).toMatch(/istio_tcp_received_bytes_total\{[^}]*\} 5/);
    expect(text).toMatch(/istio_tcp_connections_opened_total\{[^}]*\} 2/);
    expect(text).toMatch(/istio_tcp_connections_closed_total\{[^}]*\} 2/);
  });
});
