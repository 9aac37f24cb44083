import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createSpanExport, type FinishedRequest } from './span-export.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function finished(overrides: Partial<FinishedRequest> = {}): FinishedRequest {
  return {
    span: { traceId: TRACE, spanId: '1111111111111111', parentSpanId: undefined, sampled: true },
    inbound: false,
    name: 'reviews.default.svc.cluster.local:9080/reviews/0',
    startTimeMs: 1_700_000_000_000,
    endTimeMs: 1_700_000_000_012,
    attributes: { 'http.method': 'GET', 'http.status_code': 200 },
    status: 200,
    ...overrides,
  };
}

describe('createSpanExport', () => {
  it('exports nothing without an exporter', () => {
    expect(createSpanExport({ serviceName: 'reviews' })).toBeUndefined();
  });

  it('sends sampled spans with the propagated ids to an OTLP/HTTP collector', async () => {
    const bodies: Buffer[] = [];
    const collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const spans = createSpanExport({
      serviceName: 'reviews',
      otlpEndpoint: `http://127.0.0.1:${port}/v1/traces`,
    })!;
    spans.record(finished());
    spans.record(
      finished({
        span: { traceId: TRACE, spanId: '2222222222222222', parentSpanId: '1111111111111111', sampled: true },
        inbound: true,
      }),
    );
    spans.record(
      finished({
        span: {
          traceId: 'ffffffffffffffffffffffffffffffff',
          spanId: '3333333333333333',
          parentSpanId: undefined,
          sampled: false,
        },
      }),
    );
    await spans.close();
    collector.close();
    const all = Buffer.concat(bodies);
    const has = (hex: string) =>
      all.includes(Buffer.from(hex, 'hex')) || all.toString('latin1').includes(hex);
    expect(has(TRACE)).toBe(true);
    expect(has('1111111111111111')).toBe(true);
    expect(has('2222222222222222')).toBe(true);
    expect(has('ffffffffffffffffffffffffffffffff')).toBe(false);
    expect(all.toString('latin1')).toContain('reviews.default.svc.cluster.local:9080/reviews/0');
  });
});
