/**
 * Counters for label sets that are built once and reused, the counterpart
 * of series-histogram.ts: a series is a plain number behind a label text
 * escaped once, so counting a request is one addition; the family renders
 * in the Prometheus text format at scrape time only.
 */
import { labelText } from './series-histogram.ts';

/** One labelled series of one counter. */
export interface CounterSeries {
  /** `k="v",...` with Prometheus escaping, computed once. */
  readonly labels: string;
  value: number;
}

export class SeriesCounter {
  readonly name: string;
  private readonly help: string;
  private readonly series: CounterSeries[] = [];

  /** `name` is the full sample name (Prometheus counters end in `_total`). */
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  /** A new series for a label set (call once per label set, keep the result). */
  createSeries(attributes: Readonly<Record<string, string>>): CounterSeries {
    const series: CounterSeries = { labels: labelText(attributes), value: 0 };
    this.series.push(series);
    return series;
  }

  /** The Prometheus text exposition of every series; empty before the first series. */
  render(): string {
    if (this.series.length === 0) return '';
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const s of this.series) lines.push(`${this.name}{${s.labels}} ${s.value}`);
    return `${lines.join('\n')}\n`;
  }
}
