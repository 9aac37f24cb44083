/**
 * Imports the built package by name, as a user outside the repo would: a plain
 * Node process with default export conditions resolves `dist/`, not `src/`.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('is importable by name from its build output', () => {
  const script = `
    const m = await import('@weft/telemetry');
    const url = import.meta.resolve('@weft/telemetry');
    console.log(JSON.stringify({ url, exports: Object.keys(m).sort() }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const { url, exports } = JSON.parse(out);
  expect(url).toMatch(/\/packages\/telemetry\/dist\/index\.js$/);
  expect(exports).toEqual([
    'SeriesCounter',
    'SeriesHistogram',
    'createLogger',
    'createMetrics',
    'labelText',
    'parseLogLevel',
  ]);
});
