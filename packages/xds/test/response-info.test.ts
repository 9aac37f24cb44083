/** The client's `onResponse` hook: resource bytes and counts per response, SotW and delta. */
import { describe, expect, it } from 'vitest';
import {
  type AdsMode,
  ENDPOINT_TYPE_URL,
  encodeResource,
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
