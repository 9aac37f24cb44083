/**
 * @weft/telemetry: structured JSON logging and OpenTelemetry metrics with a
 * Prometheus text endpoint, shared by every Weft process, plus counter and
 * histogram families for hot paths rendered at scrape time.
 *
 * Owns: log line format, secret redaction, the process metrics registry,
 * Prometheus text of its own series.
 * Must not depend on: any other @weft project, Kubernetes, gRPC.
 */

export type { LogFields, Logger, LoggerOptions, LogLevel } from './logger.ts';
export { createLogger, parseLogLevel } from './logger.ts';
export type { MetricsOptions, MetricsRegistry } from './metrics.ts';
export { createMetrics } from './metrics.ts';
export type { CounterSeries, HistogramSeries } from './series-metrics.ts';
export { labelText, SeriesCounter, SeriesHistogram } from './series-metrics.ts';
