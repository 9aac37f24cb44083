/**
 * Exports one OpenTelemetry span per proxied request (sampled ones only):
 * SERVER on inbound listeners, CLIENT otherwise, with the ids the request
 * already carries in its trace headers (trace-context.ts), so the exported
 * trace and the access logs agree. Exporters: OTLP over HTTP
 * (`--trace-otlp-endpoint`) and/or the console (`--trace-console`, one
 * object per span on stdout).
 */
import { type Context, context, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type IdGenerator,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { TraceSpan } from './trace-context.ts';

export interface SpanExportOptions {
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
  readonly otlpEndpoint?: string;
  /** Print every span on stdout. */
  readonly console?: boolean;
  /** `service.name` of the spans (the workload's canonical service). */
  readonly serviceName: string;
}

/** What a finished request contributes to its span. */
export interface FinishedRequest {
  readonly span: TraceSpan;
  readonly inbound: boolean;
  /** Envoy's default operation name: authority + path. */
  readonly name: string;
  readonly startTimeMs: number;
  readonly endTimeMs: number;
  readonly attributes: Readonly<Record<string, string | number>>;
  readonly status: number;
}

/** Hands the tracer the ids this hop already propagated (set right before each startSpan). */
class PropagatedIds implements IdGenerator {
  traceId = '';
  spanId = '';
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

export interface SpanExport {
  record(request: FinishedRequest): void;
  /** Flushes and stops the exporters. */
  close(): Promise<void>;
}

/** A span exporter, or undefined when no exporter is configured. */
export function createSpanExport(options: SpanExportOptions): SpanExport | undefined {
  const processors: SpanProcessor[] = [];
  if (options.otlpEndpoint)
    processors.push(
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: options.otlpEndpoint }) }),
    );
  if (options.console) processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  if (processors.length === 0) return undefined;
  const ids = new PropagatedIds();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new AlwaysOnSampler(),
    idGenerator: ids,
    spanProcessors: processors,
  });
  const tracer = provider.getTracer('weft-proxy');
  return {
    record(request) {
      if (!request.span.sampled) return;
      let parent: Context = context.active();
      if (request.span.parentSpanId) {
        parent = trace.setSpanContext(parent, {
          traceId: request.span.traceId,
          spanId: request.span.parentSpanId,
          traceFlags: TraceFlags.SAMPLED,
          isRemote: true,
        });
      } else {
        parent = trace.deleteSpan(parent);
      }
      ids.traceId = request.span.traceId;
      ids.spanId = request.span.spanId;
      const span = tracer.startSpan(
        request.name,
        {
          kind: request.inbound ? SpanKind.SERVER : SpanKind.CLIENT,
          startTime: request.startTimeMs,
          attributes: request.attributes,
        },
        parent,
      );
      if (request.status >= 500 || request.status === 0) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(request.endTimeMs);
    },
    close: () => provider.shutdown(),
  };
}
