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
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const POOL_BYTES = 16384;
const poolBuffer = Buffer.alloc(POOL_BYTES);
/** Hex digits of `poolBuffer`, handed out in slices; refilled when used up. */
let hexPool = '';
let hexOffset = 0;

/**
 * `digits` random hex digits (at most 2 x POOL_BYTES): a slice of a pooled
 * hex string, so a request costs no crypto call, no Buffer and no encoding
 * (one randomFillSync and one hex encoding per 16 KiB of randomness).
 */
export function randomHex(digits: number): string {
  if (hexOffset + digits > hexPool.length) {
    randomFillSync(poolBuffer);
    hexPool = poolBuffer.toString('hex');
    hexOffset = 0;
  }
  const hex = hexPool.slice(hexOffset, hexOffset + digits);
  hexOffset += digits;
  return hex;
}

/** UUID variant digits (RFC 9562: 10xx) by a random digit's low two bits, repeated over 16 slots. */
const VARIANT = '89ab89ab89ab89ab';

/** A random (version 4) UUID in lowercase hex, from the same pool as the trace ids. */
export function randomRequestId(): string {
  const h = randomHex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${VARIANT[h.charCodeAt(16) & 15]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
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

/** The value of a lowercase hex digit's char code, else -1. */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * True for `00-<32 hex>-<16 hex>-<2 hex>` exactly as senders write it
 * (lowercase, no whitespace): the common case, checked without a regex or
 * a lowercased copy. Anything else takes the lenient path below.
 */
function isCanonicalTraceparent(value: string): boolean {
  if (value.length !== 55) return false;
  if (value.charCodeAt(0) !== 48 || value.charCodeAt(1) !== 48) return false;
  for (let i = 2; i < 55; i++) {
    const code = value.charCodeAt(i);
    if (i === 2 || i === 35 || i === 52) {
      if (code !== 45) return false;
    } else if (hexValue(code) < 0) return false;
  }
  return true;
}

/** The caller's trace, from `traceparent` or else B3 multi-headers; undefined when absent or invalid. */
export function incomingTrace(
  headers: IncomingHttpHeaders,
): { traceId: string; parentSpanId: string; sampled: boolean } | undefined {
  const raw = headers.traceparent;
  if (typeof raw === 'string' && isCanonicalTraceparent(raw)) {
    const traceId = raw.slice(3, 35);
    const parentSpanId = raw.slice(36, 52);
    if (traceId !== ZERO_TRACE && parentSpanId !== ZERO_SPAN) {
      return { traceId, parentSpanId, sampled: (hexValue(raw.charCodeAt(54)) & 1) === 1 };
    }
    return undefined;
  }
  const traceparent = header(headers, 'traceparent');
  const parent = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
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
  propagateTrace(headers, sampleRate, random);
  return propagatedSpan(headers)!;
}

/**
 * What `startSpan` does to the headers, without building a span object:
 * the headers are the record of this hop's span (`propagatedSpan` reads it
 * back when an access log or span export wants it).
 */
export function propagateTrace(headers: IncomingHttpHeaders, sampleRate: number, random: () => number): void {
  const incoming = incomingTrace(headers);
  const spanId = randomHex(16);
  let traceId: string;
  let sampled: boolean;
  if (incoming) {
    traceId = incoming.traceId;
    sampled = incoming.sampled;
    headers['x-b3-parentspanid'] = incoming.parentSpanId;
  } else {
    traceId = randomHex(32);
    sampled = random() < sampleRate;
    if (headers['x-b3-parentspanid'] !== undefined) delete headers['x-b3-parentspanid'];
  }
  headers.traceparent = `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
  headers['x-b3-traceid'] = traceId;
  headers['x-b3-spanid'] = spanId;
  headers['x-b3-sampled'] = sampled ? '1' : '0';
  if (!header(headers, 'x-request-id')) headers['x-request-id'] = randomRequestId();
}

/**
 * The span `propagateTrace` wrote into `headers` (its B3 headers name the
 * trace, this hop's span, the caller's span and the sampling decision);
 * undefined when the headers carry none.
 */
export function propagatedSpan(headers: IncomingHttpHeaders): TraceSpan | undefined {
  const traceId = headers['x-b3-traceid'];
  const spanId = headers['x-b3-spanid'];
  if (typeof traceId !== 'string' || typeof spanId !== 'string') return undefined;
  const parent = headers['x-b3-parentspanid'];
  return {
    traceId,
    spanId,
    parentSpanId: typeof parent === 'string' ? parent : undefined,
    sampled: headers['x-b3-sampled'] === '1',
  };
}
