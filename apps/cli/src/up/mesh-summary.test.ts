import { describe, expect, it } from 'vitest';
import { edgesFromScrapes, formatSummary, type GatewayTraffic, summarize } from './mesh-summary.ts';

function series(
  labels: Record<string, string>,
  code: number,
  count: number,
  buckets: Array<[string, number]>,
): string {
  const base = Object.entries({ ...labels, response_code: String(code) })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return [
    `istio_requests_total{${base}} ${count}`,
    ...buckets.map(([le, n]) => `istio_request_duration_milliseconds_bucket{${base},le="${le}"} ${n}`),
  ].join('\n');
}

const toReviews = {
  reporter: 'source',
  source_workload: 'productpage-v1',
  destination_service_name: 'reviews',
};
const gateway: GatewayTraffic = {
  requests: 100,
  succeeded: 100,
  successRate: 1,
  p50Ms: 5,
  p99Ms: 9,
  reviewsVersions: { v1: 90, v3: 10 },
};

describe('edgesFromScrapes', () => {
  it('sums client-side samples per edge across proxies and ignores the server side', () => {
    const scrapes = [
      series({ ...toReviews, destination_version: 'v1' }, 200, 9, [
        ['5', 4],
        ['10', 9],
        ['+Inf', 9],
      ]),
      series({ ...toReviews, destination_version: 'v1' }, 503, 1, [
        ['5', 0],
        ['10', 1],
        ['+Inf', 1],
      ]),
      series({ ...toReviews, reporter: 'destination', destination_version: 'v1' }, 200, 50, []),
    ];
    const [edge] = edgesFromScrapes(scrapes);
    expect(edge).toMatchObject({
      source: 'productpage-v1',
      destination: 'reviews',
      version: 'v1',
      requests: 10,
      successRate: 0.9,
    });
    // rank 5 of 10 lies in (5, 10] holding 6 observations, 1 of them below it: 5 + 5 * 1/6
    expect(edge?.p50Ms).toBeCloseTo(5 + 5 / 6);
  });
});

describe('summarize', () => {
  it.each([
    {
      name: 'all served',
      edges: [
        { source: 'a', destination: 'b', version: 'v1', requests: 5, successRate: 1, p50Ms: 1, p99Ms: 2 },
      ],
      ok: true,
      problems: [],
    },
    { name: 'an edge missing', edges: [], ok: false, problems: ['edge a -> b served no request'] },
    {
      name: 'an edge failing',
      edges: [
        { source: 'a', destination: 'b', version: 'v1', requests: 100, successRate: 0.9, p50Ms: 1, p99Ms: 2 },
      ],
      ok: false,
      problems: ['edge a -> b success rate 90.00% is below 99%'],
    },
  ])('judges $name', ({ edges, ok, problems }) => {
    const summary = summarize(gateway, edges, [{ source: 'a', destination: 'b' }], 1000);
    expect(summary.ok).toBe(ok);
    expect(summary.problems).toEqual(problems);
    expect(formatSummary(summary)).toContain(ok ? 'the mesh served correctly' : 'FAILED');
  });

  it('fails below 99% at the gateway', () => {
    expect(summarize({ ...gateway, succeeded: 98, successRate: 0.98 }, [], [], 1000).problems).toEqual([
      'gateway success rate 98.00% is below 99%',
    ]);
  });
});
