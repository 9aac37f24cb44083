import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { incomingTrace, startSpan } from './trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('incomingTrace', () => {
  it.each([
    {
      name: 'W3C traceparent',
      headers: { traceparent: `00-${TRACE}-${PARENT}-01` },
      expected: { traceId: TRACE, parentSpanId: PARENT, sampled: true },
    },
    {
      name: 'unsampled traceparent',
      headers: { traceparent: `00-${TRACE}-${PARENT}-00` },
      expected: { traceId: TRACE, parentSpanId: PARENT, sampled: false },
    },
    {
      name: 'B3 with a 64-bit trace id',
      headers: { 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': PARENT, 'x-b3-sampled': '1' },
      expected: { traceId: '0000000000000000a3ce929d0e0e4736', parentSpanId: PARENT, sampled: true },
    },
    {
      name: 'an all-zero trace id',
      headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` },
      expected: undefined,
    },
    { name: 'a malformed traceparent', headers: { traceparent: 'garbage' }, expected: undefined },
    { name: 'nothing', headers: {}, expected: undefined },
  ])('reads $name', ({ headers, expected }) => {
    expect(incomingTrace(headers)).toEqual(expected);
  });
});

describe('startSpan', () => {
  it('continues the caller trace with a new span in both header formats', () => {
    const headers: IncomingHttpHeaders = { traceparent: `00-${TRACE}-${PARENT}-01`, 'x-request-id': 'r1' };
    const span = startSpan(headers, 1, () => 0.5);
    expect(span).toMatchObject({ traceId: TRACE, parentSpanId: PARENT, sampled: true });
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.spanId).not.toBe(PARENT);
    expect(headers).toEqual({
      traceparent: `00-${TRACE}-${span.spanId}-01`,
      'x-b3-traceid': TRACE,
      'x-b3-spanid': span.spanId,
      'x-b3-parentspanid': PARENT,
      'x-b3-sampled': '1',
      'x-request-id': 'r1',
    });
  });

  it.each([
    { name: 'sampled', rate: 0.5, draw: 0.2, flags: '01' },
    { name: 'not sampled', rate: 0.5, draw: 0.7, flags: '00' },
  ])('starts a new trace ($name) with a request id', ({ rate, draw, flags }) => {
    const headers: IncomingHttpHeaders = {};
    const span = startSpan(headers, rate, () => draw);
    expect(span.parentSpanId).toBeUndefined();
    expect(headers.traceparent).toBe(`00-${span.traceId}-${span.spanId}-${flags}`);
    expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers['x-b3-parentspanid']).toBeUndefined();
  });
});
