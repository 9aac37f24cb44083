import { loadConfigPaths, type WorkloadEntry } from '@weft/config';
import { describe, expect, it } from 'vitest';
import { appAddressFor, outboundAddress, planMesh } from './mesh-plan.ts';

const BOOKINFO = new URL('../../../../examples/bookinfo', import.meta.url).pathname;

describe('planMesh', () => {
  it('plans one sidecar per bookinfo WorkloadEntry and the ingress gateway', async () => {
    const { objects } = await loadConfigPaths([BOOKINFO]);
    const plan = planMesh(objects);
    expect(plan.problems).toEqual([]);
    expect(
      plan.workloads.map((w) => [w.name, w.address, w.appAddress, w.app, w.version, w.serviceAccount]),
    ).toEqual([
      ['productpage-v1', '127.0.0.2', '127.0.1.2', 'productpage', 'v1', 'bookinfo-productpage'],
      ['details-v1', '127.0.0.3', '127.0.1.3', 'details', 'v1', 'bookinfo-details'],
      ['reviews-v1', '127.0.0.4', '127.0.1.4', 'reviews', 'v1', 'bookinfo-reviews'],
      ['reviews-v2', '127.0.0.5', '127.0.1.5', 'reviews', 'v2', 'bookinfo-reviews'],
      ['reviews-v3', '127.0.0.6', '127.0.1.6', 'reviews', 'v3', 'bookinfo-reviews'],
      ['ratings-v1', '127.0.0.7', '127.0.1.7', 'ratings', 'v1', 'bookinfo-ratings'],
    ]);
    expect(plan.workloads.every((w) => w.ports.join() === '9080')).toBe(true);
    expect(plan.gateways).toEqual([
      {
        name: 'istio-ingressgateway',
        namespace: 'istio-system',
        serviceAccount: 'istio-ingressgateway-service-account',
        labels: { istio: 'ingressgateway' },
        serverPort: 8080,
      },
    ]);
    expect(outboundAddress(plan, '127.0.0.2', 9080)).toBe('127.0.0.2:15001');
  });

  it.each([
    { name: 'loopback', address: '127.0.0.9', expected: '127.0.1.9' },
    { name: 'the shared loopback', address: '127.0.0.1', expected: undefined },
    { name: 'not loopback', address: '10.0.0.9', expected: undefined },
    { name: 'a name', address: 'reviews.local', expected: undefined },
  ])('maps $name addresses to app addresses', ({ address, expected }) => {
    expect(appAddressFor(address)).toBe(expected);
  });

  it('skips workloads it cannot run, saying why', async () => {
    const { objects } = await loadConfigPaths([BOOKINFO]);
    const broken = objects.map((o) =>
      o.kind === 'WorkloadEntry' && o.metadata.name === 'details-v1'
        ? { ...o, spec: { ...o.spec, address: '10.1.2.3' } }
        : o,
    );
    const plan = planMesh(broken);
    expect(plan.workloads.map((w) => w.name)).not.toContain('details-v1');
    expect(plan.problems).toEqual([
      'WorkloadEntry default/details-v1: address "10.1.2.3" is not 127.0.0.N (N in 2..254); not started',
    ]);
  });

  it.each([
    {
      name: 'neither a serviceAccount nor a tlsMode label',
      serviceAccount: undefined,
      label: undefined,
      warned: true,
    },
    { name: 'a serviceAccount', serviceAccount: 'bookinfo-details', label: undefined, warned: false },
    { name: 'the tlsMode label', serviceAccount: undefined, label: 'istio', warned: false },
  ])(
    'says when a sidecar would be reached in plaintext: $name',
    async ({ serviceAccount, label, warned }) => {
      const { objects } = await loadConfigPaths([BOOKINFO]);
      const changed = objects.map((o) => {
        if (o.kind !== 'WorkloadEntry' || o.metadata.name !== 'details-v1') return o;
        const entry = o as WorkloadEntry;
        const labels = { ...entry.spec.labels, ...(label ? { 'security.istio.io/tlsMode': label } : {}) };
        return { ...entry, spec: { ...entry.spec, serviceAccount, labels } };
      });
      const plan = planMesh(changed);
      expect(plan.workloads.map((w) => w.name)).toContain('details-v1');
      expect(
        plan.problems.some((p) => p.startsWith('WorkloadEntry default/details-v1: names no serviceAccount')),
      ).toBe(warned);
    },
  );
});
