/** Client options for load tools: `onResponse` (bytes and counts per response) and a shared `decodeCache`. */
import { describe, expect, it } from 'vitest';
import {
  type AdsMode,
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  encodeResource,
  type Resource,
  type ResponseInfo,
  type TypeUrl,
  waitUntil,
} from '../src/index.ts';
import { controlPlane, mesh, runningClient } from './ads-harness.ts';

const endpointBytes = (ip: string) =>
  [...mesh(ip).resources(ENDPOINT_TYPE_URL).values()].reduce((n, r) => n + encodeResource(r).length, 0);

describe('onResponse', () => {
  it.each<[AdsMode, number]>([
    ['sotw', 2],
    ['delta', 2],
  ])('reports the EDS bytes and counts of a %s response', async (mode, endpoints) => {
    const plane = await controlPlane();
    const seen: [TypeUrl, ResponseInfo][] = [];
    await runningClient(plane, 'n1', mode, { onResponse: (typeUrl, info) => seen.push([typeUrl, info]) });
    const initial = seen.find(([t]) => t === ENDPOINT_TYPE_URL)?.[1];
    expect(initial).toEqual({ resourceBytes: endpointBytes('10.0.0.1'), resources: endpoints, removed: 0 });

    seen.length = 0;
    plane.cache.setSnapshot('n1', mesh('10.0.0.2'));
    await waitUntil(() => seen.some(([t]) => t === ENDPOINT_TYPE_URL), { description: 'an EDS response' });
    expect(seen.map(([t]) => t)).toEqual([ENDPOINT_TYPE_URL]);
    expect(seen[0]?.[1].resourceBytes).toBe(endpointBytes('10.0.0.2'));
  });
});

describe('decodeCache', () => {
  it.each<AdsMode>(['sotw', 'delta'])(
    'gives %s clients that share it the same decoded Resource objects',
    async (mode) => {
      const plane = await controlPlane();
      const decodeCache = new Map<string, Resource>();
      const a = await runningClient(plane, 'a', mode, { decodeCache });
      const b = await runningClient(plane, 'b', mode, { decodeCache });
      const own = await runningClient(plane, 'c', mode);
      expect(b.resources(CLUSTER_TYPE_URL).get('a')).toBe(a.resources(CLUSTER_TYPE_URL).get('a'));
      expect(own.resources(CLUSTER_TYPE_URL).get('a')).not.toBe(a.resources(CLUSTER_TYPE_URL).get('a'));
      expect(own.resources(CLUSTER_TYPE_URL).get('a')?.body).toEqual(
        a.resources(CLUSTER_TYPE_URL).get('a')?.body,
      );
      expect(decodeCache.size).toBe(6);
    },
  );
});
