/**
 * Every generated resource must encode against Envoy's protos (through
 * @weft/xds's encodeResource, the same path the server takes), for bookinfo
 * and for a large generated mesh that exercises most translation features.
 */
import type { Resource } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import type { Proxy as MeshProxy } from '../../src/model/index.ts';
import { generateResources } from '../../src/translate/index.ts';
import { bookinfo, istio, proxyless, push, router, sidecar } from './builders.ts';
import { largeMesh } from './large-mesh.ts';
import { encodeProblems } from './validators.ts';

function count(resources: Partial<Record<string, readonly Resource[]>>): number {
  return Object.values(resources).reduce((n, list) => n + (list?.length ?? 0), 0);
}

let large: ReturnType<typeof push> | undefined;
/** The 150-service push context, parsed once for the three proxies. */
function largeContext(): ReturnType<typeof push> {
  large ??= push(istio(largeMesh(150)));
  return large;
}

const PROXIES: [string, () => MeshProxy][] = [
  ['a sidecar', () => sidecar({ ip: '127.0.0.2', name: 'svc0-v1', labels: { app: 'svc0', version: 'v1' } })],
  ['a gateway', () => router()],
  ['a proxyless client', () => proxyless()],
];

describe('generated resources encode with @weft/xds', () => {
  it.each([
    [
      'productpage-v1',
      () =>
        sidecar({ ip: '127.0.0.2', name: 'productpage-v1', labels: { app: 'productpage', version: 'v1' } }),
    ],
    ...PROXIES.slice(1),
  ] as [string, () => MeshProxy][])('bookinfo for %s', async (_name, proxy) => {
    const generated = generateResources(proxy(), push(await bookinfo()));
    expect(count(generated.resources)).toBeGreaterThan(3);
    expect(encodeProblems(generated.resources)).toEqual([]);
  });

  it.each(PROXIES)('a large generated mesh (150 services) for %s', (_name, proxy) => {
    const context = largeContext();
    const generated = generateResources(proxy(), context);
    expect(count(generated.resources)).toBeGreaterThan(150 * 4);
    expect(encodeProblems(generated.resources)).toEqual([]);
  });
});
