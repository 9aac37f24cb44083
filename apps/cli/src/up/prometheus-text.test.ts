import { describe, expect, it } from 'vitest';
import { histogramQuantile, mergeBuckets, parsePrometheusText } from './prometheus-text.ts';

describe('parsePrometheusText', () => {
  it('reads samples with labels, escapes and +Inf, and skips comments and junk', () => {
    const text = [
      '# HELP istio_requests_total Requests',
      '# TYPE istio_requests_total counter',
      'istio_requests_total{reporter="source",path="a\\"b",response_code="200"} 12',
      'up 1 1700000000000',
      'istio_request_duration_milliseconds_bucket{le="+Inf"} 3',
      'not a sample line',
    ].join('\n');
    expect(parsePrometheusText(text)).toEqual([
      {
        name: 'istio_requests_total',
        labels: { reporter: 'source', path: 'a"b', response_code: '200' },
        value: 12,
      },
      { name: 'up', labels: {}, value: 1 },
      { name: 'istio_request_duration_milliseconds_bucket', labels: { le: '+Inf' }, value: 3 },
    ]);
  });
});

describe('histogramQuantile', () => {
  const buckets = [
    { le: 10, count: 50 },
    { le: 20, count: 90 },
    { le: 50, count: 100 },
    { le: Number.POSITIVE_INFINITY, count: 100 },
  ];
  it.each([
    { q: 0.5, expected: 10 },
    { q: 0.25, expected: 5 },
    { q: 0.7, expected: 15 },
    { q: 0.95, expected: 35 },
  ])('interpolates the $q quantile', ({ q, expected }) => {
    expect(histogramQuantile(q, buckets)).toBeCloseTo(expected);
  });

  it('answers the largest finite bound for a quantile in +Inf, undefined for no data', () => {
    expect(
      histogramQuantile(0.99, [
        { le: 5, count: 1 },
        { le: Number.POSITIVE_INFINITY, count: 10 },
      ]),
    ).toBe(5);
    expect(histogramQuantile(0.5, [])).toBeUndefined();
  });

  it('merges series bucket by bucket', () => {
    expect(
      mergeBuckets([
        [{ le: 1, count: 2 }],
        [
          { le: 1, count: 3 },
          { le: 2, count: 4 },
        ],
      ]),
    ).toEqual([
      { le: 1, count: 5 },
      { le: 2, count: 4 },
    ]);
  });
});
