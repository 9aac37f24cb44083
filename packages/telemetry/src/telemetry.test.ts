import { describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from './index.ts';

describe('createLogger', () => {
  it('writes one JSON object per line with level, logger and fields', () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'test', write: (l) => lines.push(l), now: () => 0 });
    log.child({ node: 'n1' }).warn('nack', { typeUrl: 'cds' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      logger: 'test',
      msg: 'nack',
      node: 'n1',
      typeUrl: 'cds',
    });
  });

  it.each([['token'], ['privateKey'], ['authorization'], ['password']])('redacts the %s field', (field) => {
    const lines: string[] = [];
    createLogger({ name: 't', write: (l) => lines.push(l) }).info('x', { [field]: 'sensitive' });
    expect(lines[0]).not.toContain('sensitive');
  });

  it('drops lines under the threshold', () => {
    const lines: string[] = [];
    const log = createLogger({ name: 't', level: 'warn', write: (l) => lines.push(l) });
    log.info('quiet');
    log.error('loud', { err: Object.assign(new Error('boom'), { code: 'E_X' }) });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).err).toEqual({ message: 'boom', name: 'Error', code: 'E_X' });
  });
});

describe('createMetrics', () => {
  it('exposes counters in the Prometheus text format', async () => {
    const metrics = createMetrics({ serviceName: 'test' });
    metrics.meter.createCounter('weft_test_total', { description: 'test counter' }).add(3, { kind: 'a' });
    const text = await metrics.scrape();
    expect(text).toMatch(/weft_test_total\{kind="a"\} 3/);
    await metrics.shutdown();
  });
});
