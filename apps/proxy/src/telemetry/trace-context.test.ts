import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  incomingTrace,
  propagatedSpan,
  propagateTrace,
  randomHex,
  randomRequestId,
  startSpan,
} from './trace-context.ts';

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
    {
      name: 'an uppercase traceparent with spaces (lenient path)',
      headers: { traceparent: ` 00-${TRACE.toUpperCase()}-${PARENT}-01 ` },
      expected: { traceId: TRACE, parentSpanId: PARENT, sampled: true },
    },
    {
      name: 'flags with the sampled bit among others',
      headers: { traceparent: `00-${TRACE}-${PARENT}-03` },
      expected: { traceId: TRACE, parentSpanId: PARENT, sampled: true },
    },
    {
      name: 'an all-zero parent span id',
      headers: { traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` },
      expected: undefined,
    },
    { name: 'a malformed traceparent', headers: { traceparent: 'garbage' }, expected: undefined },
    {
      name: 'a non-hex digit in a 55-character traceparent',
      headers: { traceparent: `00-${TRACE.slice(0, 31)}g-${PARENT}-01` },
      expected: undefined,
    },
    {
      name: 'another version',
      headers: { traceparent: `01-${TRACE}-${PARENT}-01` },
      expected: undefined,
    },
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

describe('randomHex', () => {
  it('hands out distinct lowercase hex ids across pool refills', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = randomHex(32);
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
  });
});

describe('randomRequestId', () => {
  it('is a distinct version 4 UUID each time', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = randomRequestId();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
  });
});

describe('propagateTrace', () => {
  it('writes the span into the headers, where propagatedSpan reads it back', () => {
    const headers: IncomingHttpHeaders = { traceparent: `00-${TRACE}-${PARENT}-00` };
    propagateTrace(headers, 1, () => 0);
    const span = propagatedSpan(headers);
    expect(span).toMatchObject({ traceId: TRACE, parentSpanId: PARENT, sampled: false });
    expect(headers.traceparent).toBe(`00-${TRACE}-${span?.spanId}-00`);
    expect(headers['x-b3-sampled']).toBe('0');
  });

  it('drops a stale B3 parent when a new trace starts', () => {
    const headers: IncomingHttpHeaders = { 'x-b3-parentspanid': PARENT };
    propagateTrace(headers, 1, () => 0);
    expect(propagatedSpan(headers)).toMatchObject({ parentSpanId: undefined, sampled: true });
    expect(headers['x-b3-parentspanid']).toBeUndefined();
  });

  it('reads no span from headers without one', () => {
    expect(propagatedSpan({ 'x-b3-spanid': PARENT })).toBeUndefined();
  });
});
