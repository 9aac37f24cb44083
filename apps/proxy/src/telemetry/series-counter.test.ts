import { describe, expect, it } from 'vitest';
import { SeriesCounter } from './series-counter.ts';

describe('SeriesCounter', () => {
  it('renders each series once with its escaped labels and value', () => {
    const counter = new SeriesCounter('c_total', 'help text');
    const ok = counter.createSeries({ code: '200' });
    const odd = counter.createSeries({ path: 'a"b' });
    ok.value += 3;
    odd.value++;
    expect(counter.render()).toBe(
      [
        '# HELP c_total help text',
        '# TYPE c_total counter',
        'c_total{code="200"} 3',
        'c_total{path="a\\"b"} 1',
        '',
      ].join('\n'),
    );
  });

  it('renders nothing before its first series', () => {
    expect(new SeriesCounter('c_total', 'x').render()).toBe('');
  });
});
