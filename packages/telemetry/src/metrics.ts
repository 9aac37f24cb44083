/**
 * Metrics through the OpenTelemetry SDK, exposed in the Prometheus text format.
 *
 * One `MetricsRegistry` per process: it owns a MeterProvider whose only reader
 * is a Prometheus exporter that never opens its own port; the process mounts
 * `handleScrape` on whatever HTTP server serves `/metrics`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export interface MetricsRegistry {
  /** The meter instruments are created on. */
  readonly meter: Meter;
  /** Writes the Prometheus text exposition of every instrument to `res`. */
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
  return {
    meter,
    handleScrape: (req, res) => exporter.getMetricsRequestHandler(req, res),
    scrape: async () => {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metrics collection failed');
      const { PrometheusSerializer } = await import('@opentelemetry/exporter-prometheus');
      return new PrometheusSerializer(undefined, false, undefined, true, true).serialize(resourceMetrics);
    },
    shutdown: () => provider.shutdown(),
  };
}
