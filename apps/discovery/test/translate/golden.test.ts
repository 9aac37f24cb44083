/**
 * Golden tests: the resources generated for bookinfo (examples/bookinfo) are
 * stable. The snapshots under __snapshots__/ were reviewed by hand (names,
 * ports, weights); a change here must be reviewed the same way before the
 * snapshot is updated (`npx vitest run -u`).
 */
import { TYPE_SHORT_NAMES, type TypeUrl } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import type { GeneratedResources } from '../../src/translate/index.ts';
import { generateResources } from '../../src/translate/index.ts';
import { bookinfo, proxyless, push, router, sidecar } from './builders.ts';

function golden(generated: GeneratedResources): string {
  const byType: Record<string, unknown> = {};
  for (const [typeUrl, list] of Object.entries(generated.resources) as [
    TypeUrl,
    GeneratedResources['resources'][TypeUrl],
  ][]) {
    byType[TYPE_SHORT_NAMES[typeUrl]] = (list ?? []).map((r) => ({ name: r.name, body: r.body }));
  }
  return `${JSON.stringify({ warnings: generated.warnings, resources: byType }, null, 2)}\n`;
}

describe('bookinfo golden resources', () => {
  it.each([
    [
      'productpage-v1 sidecar',
      'productpage-v1.json',
      () =>
        sidecar({ ip: '127.0.0.2', name: 'productpage-v1', labels: { app: 'productpage', version: 'v1' } }),
    ],
    [
      'reviews-v1 sidecar (STRICT mTLS, AuthorizationPolicy)',
      'reviews-v1.json',
      () => sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } }),
    ],
    ['ingress gateway', 'ingressgateway.json', () => router()],
    ['proxyless gRPC client', 'proxyless-client.json', () => proxyless()],
  ])('%s', async (_name, file, proxy) => {
    const generated = generateResources(proxy(), push(await bookinfo()));
    await expect(golden(generated)).toMatchFileSnapshot(`./__snapshots__/${file}`);
  });
});
