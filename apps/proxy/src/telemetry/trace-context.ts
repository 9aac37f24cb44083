/**
 * Trace context propagation on the request path, as a tracing proxy does
 * it: each request gets a span of its own under the caller's trace. The
 * incoming W3C `traceparent` (else B3 `x-b3-traceid`/`x-b3-spanid`) names the
 * trace and the parent span; without either a new trace starts (sampled at
 * `sampleRate`). The request then carries this hop's span id in both
 * `traceparent` and the B3 headers, so the next hop (and the app, which
 * copies them onward) continue the same trace; `x-request-id` is added when
 * missing, as Envoy does at the edge.
 *
 * @see https://www.w3.org/TR/trace-context/ and https://github.com/openzipkin/b3-propagation
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** `digits` random hex digits from a pooled buffer (one randomBytes call per 4 KiB, not per request). */
function randomHex(digits: number): string {
  const bytes = digits / 2;
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/** The span this proxy opened for one request. */
export interface TraceSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits: this hop's span. */
  readonly spanId: string;
  /** The caller's span, when there was one. */
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value.trim().toLowerCase() : undefined;
}

/** The caller's trace, from `traceparent` or else B3 multi-headers; undefined when absent or invalid. */
export function incomingTrace(
  headers: IncomingHttpHeaders,
): { traceId: string; parentSpanId: string; sampled: boolean } | undefined {
  const parent = TRACEPARENT.exec(header(headers, 'traceparent') ?? '');
  if (parent && parent[1] !== ZERO_TRACE && parent[2] !== ZERO_SPAN) {
    return {
      traceId: parent[1]!,
      parentSpanId: parent[2]!,
      sampled: (Number.parseInt(parent[3]!, 16) & 1) === 1,
    };
  }
  const b3Trace = header(headers, 'x-b3-traceid');
  const b3Span = header(headers, 'x-b3-spanid');
  if (
    b3Trace &&
    b3Span &&
    HEX.test(b3Trace) &&
    (b3Trace.length === 16 || b3Trace.length === 32) &&
    HEX.test(b3Span) &&
    b3Span.length === 16
  ) {
    return {
      traceId: b3Trace.padStart(32, '0'),
      parentSpanId: b3Span,
      sampled: header(headers, 'x-b3-sampled') !== '0',
    };
  }
  return undefined;
}

/**
 * Opens this hop's span and rewrites the request's trace headers to name it
 * (module comment). `random()` in [0, 1) decides sampling of new traces.
 */
export function startSpan(headers: IncomingHttpHeaders, sampleRate: number, random: () => number): TraceSpan {
  const incoming = incomingTrace(headers);
  const ids = randomHex(48);
  const spanId = ids.slice(32, 48);
  const span: TraceSpan = incoming
    ? { traceId: incoming.traceId, spanId, parentSpanId: incoming.parentSpanId, sampled: incoming.sampled }
    : { traceId: ids.slice(0, 32), spanId, parentSpanId: undefined, sampled: random() < sampleRate };
  headers.traceparent = `00-${span.traceId}-${span.spanId}-${span.sampled ? '01' : '00'}`;
  headers['x-b3-traceid'] = span.traceId;
  headers['x-b3-spanid'] = span.spanId;
  headers['x-b3-sampled'] = span.sampled ? '1' : '0';
  if (span.parentSpanId) headers['x-b3-parentspanid'] = span.parentSpanId;
  else delete headers['x-b3-parentspanid'];
  if (!header(headers, 'x-request-id')) headers['x-request-id'] = randomUUID();
  return span;
}
