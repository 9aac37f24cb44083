import { describe, expect, it } from 'vitest';
import { planIstioWatches, type ServedGroup } from './kube-kinds.ts';

const ALL_NETWORKING = [
  'virtualservices',
  'destinationrules',
  'gateways',
  'serviceentries',
  'workloadentries',
  'sidecars',
];
const ALL_SECURITY = ['peerauthentications', 'authorizationpolicies', 'requestauthentications'];

function servedAll(group: string): Set<string> {
  return new Set(group === 'networking.istio.io' ? ALL_NETWORKING : ALL_SECURITY);
}

describe('planIstioWatches', () => {
  it.each([
    {
      name: 'the preferred version when Weft accepts it',
      groups: [
        { name: 'networking.istio.io', preferredVersion: 'v1beta1', versions: ['v1', 'v1beta1', 'v1alpha3'] },
      ],
      expected: 'v1beta1',
    },
    {
      name: 'the newest accepted version when the preferred one is unknown to Weft',
      groups: [{ name: 'networking.istio.io', preferredVersion: 'v2', versions: ['v2', 'v1alpha3', 'v1'] }],
      expected: 'v1',
    },
    {
      name: 'v1alpha3 on an old cluster',
      groups: [{ name: 'networking.istio.io', preferredVersion: 'v1alpha3', versions: ['v1alpha3'] }],
      expected: 'v1alpha3',
    },
  ])('watches VirtualServices at $name', ({ groups, expected }) => {
    const plan = planIstioWatches(groups, servedAll);
    const vs = plan.watches.find((w) => w.kind === 'VirtualService');
    expect(vs?.version).toBe(expected);
    expect(vs?.path).toBe(`/apis/networking.istio.io/${expected}/virtualservices`);
  });

  it('lists a group the cluster does not serve and a kind missing from a served group as missing', () => {
    const groups: ServedGroup[] = [{ name: 'networking.istio.io', preferredVersion: 'v1', versions: ['v1'] }];
    const plan = planIstioWatches(groups, () => new Set(['virtualservices']));
    expect(plan.watches.map((w) => w.kind)).toEqual(['VirtualService']);
    expect(plan.missing).toHaveLength(8);
    expect(plan.missing).toContain(
      'Gateway: networking.istio.io serves no gateways at v1, v1beta1, v1alpha3 (is its CRD installed?); Gateway objects are not read',
    );
    expect(plan.missing).toContain(
      'PeerAuthentication: the cluster does not serve security.istio.io (is its CRD installed?); PeerAuthentication objects are not read',
    );
  });

  it('falls back to another served version when the preferred one lacks the kind', () => {
    const groups: ServedGroup[] = [
      { name: 'security.istio.io', preferredVersion: 'v1', versions: ['v1', 'v1beta1'] },
    ];
    const plan = planIstioWatches(groups, (_group, version) =>
      version === 'v1' ? new Set(['authorizationpolicies']) : new Set(ALL_SECURITY),
    );
    const versions = Object.fromEntries(plan.watches.map((w) => [w.kind, w.version]));
    expect(versions).toEqual({
      AuthorizationPolicy: 'v1',
      PeerAuthentication: 'v1beta1',
      RequestAuthentication: 'v1beta1',
    });
  });
});
