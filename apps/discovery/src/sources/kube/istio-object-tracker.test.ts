import { describe, expect, it } from 'vitest';
import { createIstioObjectTracker } from './istio-object-tracker.ts';

function vs(timeout: string) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'r', namespace: 'ns', uid: 'abc', resourceVersion: '5', managedFields: [] },
    spec: { hosts: ['r'], http: [{ timeout, route: [{ destination: { host: 'r' } }] }] },
  };
}

describe('createIstioObjectTracker', () => {
  it('keeps the last good version while the current one is invalid, and forgets both on delete', () => {
    const tracker = createIstioObjectTracker();
    tracker.upsert(vs('2s'), 'VirtualService');
    expect(tracker.problems()).toEqual([]);
    tracker.upsert(vs('never'), 'VirtualService');
    expect(
      tracker.objects().map((o) => (o.spec as { http: { timeout: string }[] }).http[0]?.timeout),
    ).toEqual(['2s']);
    expect(tracker.problems()).toEqual([
      expect.objectContaining({
        kind: 'VirtualService',
        namespace: 'ns',
        name: 'r',
        path: 'spec.http[0].timeout',
      }),
    ]);
    tracker.remove('VirtualService', 'ns', 'r');
    expect(tracker.objects()).toEqual([]);
    expect(tracker.problems()).toEqual([]);
  });
});
