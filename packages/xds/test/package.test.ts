/**
 * Imports the built package by name, as a user outside the repo would: a plain
 * Node process with default export conditions resolves `dist/`, not `src/`.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('is importable by name from its build output and encodes a resource', () => {
  const script = `
    const m = await import('@weft/xds');
    const url = import.meta.resolve('@weft/xds');
    const bytes = m.encodeResource(m.buildCluster('c'));
    const back = m.decodeResource(m.CLUSTER_TYPE_URL, bytes);
    console.log(JSON.stringify({ url, exports: Object.keys(m).sort(), name: back.name }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const { url, exports, name } = JSON.parse(out);
  expect(url).toMatch(/\/packages\/xds\/dist\/index\.js$/);
  expect(name).toBe('c');
  expect(exports).toEqual(
    expect.arrayContaining([
      'CLUSTER_TYPE_URL',
      'PUSH_ORDER',
      'createAdsClient',
      'createAdsServer',
      'createDebounce',
      'createSnapshot',
      'createSnapshotCache',
      'decodeResource',
      'encodeResource',
      'loadEnvoyProtos',
      'resourceToJson',
      'startTestControlPlane',
    ]),
  );
});
