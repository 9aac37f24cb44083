/**
 * Just enough of the Prometheus text exposition format to read the proxies'
 * Istio metrics back: samples with their labels, and quantiles estimated
 * from cumulative histogram buckets the way PromQL's histogram_quantile does.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(value: string): string {
  return value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses every sample line; comments and malformed lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line.trim());
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1]!] = unescapeLabel(label[2]!);
    const value = match[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[3]);
    if (!Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** One cumulative bucket: `le` upper bound and the count of observations <= it. */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/**
 * The q-quantile (0..1) of a cumulative histogram, interpolating linearly
 * inside the bucket that holds it (lower bound 0 for the first bucket); a
 * quantile in the +Inf bucket is the largest finite bound. Undefined when
 * there are no observations.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      if (inBucket === 0) return bucket.le;
      return lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

/** Adds bucket counts of several histograms with the same bounds (summing series). */
export function mergeBuckets(series: readonly (readonly Bucket[])[]): Bucket[] {
  const byLe = new Map<number, number>();
  for (const buckets of series) for (const b of buckets) byLe.set(b.le, (byLe.get(b.le) ?? 0) + b.count);
  return [...byLe.entries()].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count }));
}
