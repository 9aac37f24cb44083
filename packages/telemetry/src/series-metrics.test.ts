import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { labelText, SeriesCounter, SeriesHistogram } from './series-metrics.ts';

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

  it.each([
    { name: 'below the first bound', value: -1, bucket: 0 },
    { name: 'on a bound', value: 10, bucket: 1 },
    { name: 'between bounds', value: 10.5, bucket: 2 },
    { name: 'on the last bound', value: 100, bucket: 2 },
    { name: 'past the last bound', value: 1e9, bucket: 3 },
  ])('puts a value $name in its bucket', ({ value, bucket }) => {
    const histogram = new SeriesHistogram('h', 'x', [1, 10, 100]);
    const series = histogram.createSeries({});
    histogram.observe(series, value);
    expect([...series.counts].indexOf(1)).toBe(bucket);
  });

  it('renders nothing without series', () => {
    expect(new SeriesHistogram('h', 'x', [1]).render()).toBe('');
  });
});

describe('SeriesCounter', () => {
  it('renders each series once with its labels and value', () => {
    const counter = new SeriesCounter('c_total', 'help text');
    const ok = counter.createSeries({ code: '200' });
    const failed = counter.createSeries({ code: '503', flags: 'UF' });
    ok.value += 3;
    failed.value++;
    expect(counter.render()).toBe(
      [
        '# HELP c_total help text',
        '# TYPE c_total counter',
        'c_total{code="200"} 3',
        'c_total{code="503",flags="UF"} 1',
        '',
      ].join('\n'),
    );
  });

  it('renders nothing before its first series', () => {
    expect(new SeriesCounter('c_total', 'x').render()).toBe('');
  });
});

describe('labelText', () => {
  const cases: { name: string; attributes: Record<string, string>; text: string }[] = [
    { name: 'several labels in order', attributes: { a: '1', b: '2' }, text: 'a="1",b="2"' },
    {
      name: 'quotes, backslashes and newlines escaped',
      attributes: { path: 'a"b\\c\nd' },
      text: 'path="a\\"b\\\\c\\nd"',
    },
    { name: 'no labels', attributes: {}, text: '' },
  ];
  it.each(cases)('renders $name', ({ attributes, text }) => {
    expect(labelText(attributes)).toBe(text);
  });
});

describe('MetricsRegistry.addText', () => {
  it('appends text sources after the instruments, rendered at each scrape', async () => {
    const registry = createMetrics({ serviceName: 'test' });
    registry.meter.createCounter('otel_total').add(1);
    const counter = new SeriesCounter('own_total', 'own');
    const series = counter.createSeries({ k: 'v' });
    registry.addText(() => counter.render());
    registry.addText(() => '');
    series.value = 2;
    const first = await registry.scrape();
    series.value = 5;
    const second = await registry.scrape();
    expect(first).toContain('otel_total');
    expect(first.indexOf('otel_total')).toBeLessThan(first.indexOf('own_total'));
    expect(first.endsWith('own_total{k="v"} 2\n')).toBe(true);
    expect(second.endsWith('own_total{k="v"} 5\n')).toBe(true);
    await registry.shutdown();
  });

  it('serves the same text on handleScrape', async () => {
    const registry = createMetrics({ serviceName: 'test' });
    registry.addText(() => 'own_total 1\n');
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => registry.handleScrape(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('own_total 1\n');
    } finally {
      server.close();
      await registry.shutdown();
    }
  });
});
