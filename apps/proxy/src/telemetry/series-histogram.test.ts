import { createMetrics } from '@weft/telemetry';
import { describe, expect, it } from 'vitest';
import { labelText, SeriesHistogram, withAppendedText } from './series-histogram.ts';

describe('SeriesHistogram', () => {
  it('renders cumulative buckets, sum and count per series; a value equal to a bound is in that bucket', () => {
    const histogram = new SeriesHistogram('h_ms', 'help text', [1, 5]);
    const a = histogram.createSeries({ code: '200' });
    const b = histogram.createSeries({ code: '503' });
    for (const value of [0.5, 1, 3, 9]) histogram.observe(a, value);
    histogram.observe(b, 7);
    expect(histogram.render()).toBe(
      [
        '# HELP h_ms help text',
        '# TYPE h_ms histogram',
        'h_ms_bucket{code="200",le="1"} 2',
        'h_ms_bucket{code="200",le="5"} 3',
        'h_ms_bucket{code="200",le="+Inf"} 4',
        'h_ms_sum{code="200"} 13.5',
        'h_ms_count{code="200"} 4',
        'h_ms_bucket{code="503",le="1"} 0',
        'h_ms_bucket{code="503",le="5"} 0',
        'h_ms_bucket{code="503",le="+Inf"} 1',
        'h_ms_sum{code="503"} 7',
        'h_ms_count{code="503"} 1',
        '',
      ].join('\n'),
    );
  });

  it('renders nothing without series, and escapes label values', () => {
    expect(new SeriesHistogram('h', 'x', [1]).render()).toBe('');
    expect(labelText({ path: 'a"b\\c\nd' })).toBe('path="a\\"b\\\\c\\nd"');
  });

  it('appends its text to the OpenTelemetry scrape', async () => {
    const registry = createMetrics({ serviceName: 'test' });
    registry.meter.createCounter('otel_total').add(1);
    const text = await withAppendedText(registry, () => 'extra_metric 1\n').scrape();
    expect(text).toContain('otel_total');
    expect(text.endsWith('\nextra_metric 1\n')).toBe(true);
  });
});
