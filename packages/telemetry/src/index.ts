/**
 * @weft/telemetry: structured JSON logging and OpenTelemetry metrics with a
 * Prometheus text endpoint, shared by every Weft process.
 *
 * Owns: log line format, secret redaction, the process metrics registry.
 * Must not depend on: any other @weft project, Kubernetes, gRPC.
 */

export type { LogFields, Logger, LoggerOptions, LogLevel } from './logger.ts';
export { createLogger, parseLogLevel } from './logger.ts';
export type { MetricsOptions, MetricsRegistry } from './metrics.ts';
export { createMetrics } from './metrics.ts';
