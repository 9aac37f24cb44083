/**
 * The `weft up --exit-after` verdict: per service edge (client workload ->
 * service version) requests, success rate and latency quantiles, read from
 * every proxy's `istio_requests_total` and `istio_request_duration_milliseconds`
 * as the client side reports them (reporter="source"), plus what the
 * traffic generator saw at the gateway.
 */
import {
  type Bucket,
  histogramQuantile,
  mergeBuckets,
  parsePrometheusText,
  type Sample,
} from './prometheus-text.ts';

export interface EdgeSummary {
  /** Client workload (`source_workload`), e.g. `productpage-v1`. */
  readonly source: string;
  /** `destination_service_name`, e.g. `reviews`. */
  readonly destination: string;
  /** `destination_version`, e.g. `v3` (`unknown` when the endpoint had no version). */
  readonly version: string;
  readonly requests: number;
  /** Share of responses below 500 (0..1). */
  readonly successRate: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
}

export interface GatewayTraffic {
  readonly requests: number;
  readonly succeeded: number;
  readonly successRate: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Reviews version named in each successful /productpage reply (`data-version`), counted. */
  readonly reviewsVersions: Readonly<Record<string, number>>;
}

export interface MeshSummary {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly gateway: GatewayTraffic;
  readonly edges: readonly EdgeSummary[];
  /** Why `ok` is false, one sentence each. */
  readonly problems: readonly string[];
}

const REQUESTS = 'istio_requests_total';
const BUCKETS = 'istio_request_duration_milliseconds_bucket';

function edgeKey(labels: Readonly<Record<string, string>>): string {
  return [
    labels.source_workload ?? 'unknown',
    labels.destination_service_name ?? 'unknown',
    labels.destination_version ?? 'unknown',
  ].join('\u0000');
}

/** Per-edge totals from the scrapes of every proxy (client-side samples only). */
export function edgesFromScrapes(scrapes: readonly string[]): EdgeSummary[] {
  const requests = new Map<string, { total: number; ok: number }>();
  const buckets = new Map<string, Map<string, Bucket[]>>();
  for (const text of scrapes) {
    for (const sample of parsePrometheusText(text)) {
      if (sample.labels.reporter !== 'source') continue;
      const key = edgeKey(sample.labels);
      if (sample.name === REQUESTS) addRequests(requests, key, sample);
      else if (sample.name === BUCKETS) addBucket(buckets, key, sample);
    }
  }
  return [...requests.entries()]
    .map(([key, counts]) => {
      const [source, destination, version] = key.split('\u0000') as [string, string, string];
      const merged = mergeBuckets([...(buckets.get(key)?.values() ?? [])]);
      return {
        source,
        destination,
        version,
        requests: counts.total,
        successRate: counts.total === 0 ? 0 : counts.ok / counts.total,
        p50Ms: histogramQuantile(0.5, merged),
        p99Ms: histogramQuantile(0.99, merged),
      };
    })
    .sort((a, b) =>
      `${a.source} ${a.destination} ${a.version}`.localeCompare(`${b.source} ${b.destination} ${b.version}`),
    );
}

function addRequests(into: Map<string, { total: number; ok: number }>, key: string, sample: Sample): void {
  const entry = into.get(key) ?? { total: 0, ok: 0 };
  entry.total += sample.value;
  if (Number(sample.labels.response_code) < 500) entry.ok += sample.value;
  into.set(key, entry);
}

function addBucket(into: Map<string, Map<string, Bucket[]>>, key: string, sample: Sample): void {
  const le = sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
  const { le: _le, ...rest } = sample.labels;
  const series = JSON.stringify(rest);
  const bySeries = into.get(key) ?? new Map<string, Bucket[]>();
  const list = bySeries.get(series) ?? [];
  list.push({ le, count: sample.value });
  bySeries.set(series, list);
  into.set(key, bySeries);
}

/** An edge the mesh must have served, e.g. productpage -> reviews. */
export interface ExpectedEdge {
  readonly source: string;
  readonly destination: string;
}

/**
 * The verdict: every expected edge served (requests > 0, success >= 99%) and
 * gateway success >= 99%.
 */
export function summarize(
  gateway: GatewayTraffic,
  edges: readonly EdgeSummary[],
  expected: readonly ExpectedEdge[],
  durationMs: number,
): MeshSummary {
  const problems: string[] = [];
  if (gateway.requests === 0) problems.push('no request reached the gateway');
  else if (gateway.successRate < 0.99)
    problems.push(`gateway success rate ${(gateway.successRate * 100).toFixed(2)}% is below 99%`);
  for (const edge of expected) {
    const served = edges.filter((e) => e.source === edge.source && e.destination === edge.destination);
    const total = served.reduce((n, e) => n + e.requests, 0);
    const ok = served.reduce((n, e) => n + e.requests * e.successRate, 0);
    if (total === 0) problems.push(`edge ${edge.source} -> ${edge.destination} served no request`);
    else if (ok / total < 0.99)
      problems.push(
        `edge ${edge.source} -> ${edge.destination} success rate ${((ok / total) * 100).toFixed(2)}% is below 99%`,
      );
  }
  return { ok: problems.length === 0, durationMs, gateway, edges, problems };
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(1)} ms`;
}

/** The human-readable summary. */
export function formatSummary(summary: MeshSummary): string {
  const g = summary.gateway;
  const versions = Object.entries(g.reviewsVersions)
    .sort()
    .map(([v, n]) => `${v} ${((n / Math.max(1, g.succeeded)) * 100).toFixed(1)}%`)
    .join(', ');
  const lines = [
    `weft up: ${(summary.durationMs / 1000).toFixed(1)} s of traffic through the gateway`,
    `  gateway /productpage: ${g.requests} requests, ${(g.successRate * 100).toFixed(2)}% ok, p50 ${ms(g.p50Ms)}, p99 ${ms(g.p99Ms)}`,
    `  reviews versions seen: ${versions || '-'}`,
    '  edges (client side, from istio_requests_total / istio_request_duration_milliseconds):',
    ...summary.edges.map(
      (e) =>
        `    ${`${e.source} -> ${e.destination} ${e.version}`.padEnd(44)} ${String(e.requests).padStart(6)} req  ${(e.successRate * 100).toFixed(2).padStart(6)}% ok  p50 ${ms(e.p50Ms)}  p99 ${ms(e.p99Ms)}`,
    ),
    summary.ok
      ? '  verdict: the mesh served correctly'
      : `  verdict: FAILED\n${summary.problems.map((p) => `    - ${p}`).join('\n')}`,
  ];
  return `${lines.join('\n')}\n`;
}
