/**
 * Metrics through the OpenTelemetry SDK, exposed in the Prometheus text format.
 *
 * One `MetricsRegistry` per process: it owns a MeterProvider whose only reader
 * is a Prometheus exporter that never opens its own port; the process mounts
 * `handleScrape` on whatever HTTP server serves `/metrics`. Text sources
 * added with `addText` (series-metrics.ts families, for hot paths) are
 * rendered at each scrape and appended after OpenTelemetry's exposition.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export interface MetricsRegistry {
  /** The meter instruments are created on. */
  readonly meter: Meter;
  /**
   * Appends `render()`'s Prometheus text to every scrape, after the
   * instruments' text and in the order added. `render` runs once per scrape
   * and must return whole lines (each ending in a newline) or ''.
   */
  addText(render: () => string): void;
  /** Writes the Prometheus text exposition of every instrument and text source to `res`. */
  handleScrape(req: IncomingMessage, res: ServerResponse): void;
  /** Returns the Prometheus text exposition (tests and debug endpoints). */
  scrape(): Promise<string>;
  shutdown(): Promise<void>;
}

export interface MetricsOptions {
  /** `service.name` of the process, e.g. `weft-ca`. */
  serviceName: string;
}

/** Creates the process's metrics registry. Call once per process. */
export function createMetrics(options: MetricsOptions): MetricsRegistry {
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutTargetInfo: true,
    withoutScopeInfo: true,
    appendTimestamp: false,
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    readers: [exporter],
  });
  const meter = provider.getMeter(options.serviceName);
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
  const texts: (() => string)[] = [];
  /** Instruments then text sources; collection errors reject when `strict`, else the rest is served. */
  const render = async (strict: boolean): Promise<string> => {
    const { resourceMetrics, errors } = await exporter.collect();
    if (strict && errors.length > 0) throw new AggregateError(errors, 'metrics collection failed');
    let text = serializer.serialize(resourceMetrics);
    for (const source of texts) {
      const extra = source();
      if (extra === '') continue;
      if (text !== '' && !text.endsWith('\n')) text += '\n';
      text += extra;
    }
    return text;
  };
  return {
    meter,
    addText: (source) => {
      texts.push(source);
    },
    handleScrape: (_req, res) => {
      render(false).then(
        (text) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`# metrics collection failed: ${String(error)}\n`);
        },
      );
    },
    scrape: () => render(true),
    shutdown: () => provider.shutdown(),
  };
}
