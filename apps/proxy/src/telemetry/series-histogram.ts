/**
 * Histograms for label sets that are built once and reused (Istio's
 * metrics): each series keeps its cumulative buckets in a Float64Array, so an
 * observation is a bucket search and three additions. The OpenTelemetry SDK
 * hashes every attribute of every recording (about 14 us for Istio's 20
 * labels, measured in bench), which three histograms per request cannot
 * afford; these render in the Prometheus text format and are appended to
 * the OpenTelemetry exporter's output (`withAppendedText`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricsRegistry } from '@weft/telemetry';

/** One labelled series of one histogram. */
export interface HistogramSeries {
  /** `k="v",...` with Prometheus escaping, computed once. */
  readonly labels: string;
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Renders attributes as the inside of a Prometheus label set. */
export function labelText(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
}

export class SeriesHistogram {
  readonly name: string;
  private readonly help: string;
  private readonly bounds: readonly number[];
  private readonly series: HistogramSeries[] = [];

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = bounds;
  }

  /** A new series for a label set (call once per label set, keep the result). */
  createSeries(attributes: Readonly<Record<string, string>>): HistogramSeries {
    const series: HistogramSeries = {
      labels: labelText(attributes),
      counts: new Float64Array(this.bounds.length + 1),
      sum: 0,
      count: 0,
    };
    this.series.push(series);
    return series;
  }

  /** Records one value (values equal to a bound fall in that bound's bucket, as `le` says). */
  observe(series: HistogramSeries, value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  /** The Prometheus text exposition of every series (cumulative buckets, `_sum`, `_count`). */
  render(): string {
    if (this.series.length === 0) return '';
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
        lines.push(`${this.name}_bucket{${s.labels},le="${le}"} ${cumulative}`);
      }
      lines.push(`${this.name}_sum{${s.labels}} ${s.sum}`, `${this.name}_count{${s.labels}} ${s.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/**
 * The registry with `extra()` appended to its Prometheus text (scrape and
 * handleScrape); the meter and shutdown are the registry's own.
 */
export function withAppendedText(registry: MetricsRegistry, extra: () => string): MetricsRegistry {
  const scrape = async () => {
    const base = await registry.scrape();
    return `${base}${base.endsWith('\n') || base === '' ? '' : '\n'}${extra()}`;
  };
  return {
    meter: registry.meter,
    scrape,
    shutdown: () => registry.shutdown(),
    handleScrape(_req: IncomingMessage, res: ServerResponse) {
      scrape().then(
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
  };
}
