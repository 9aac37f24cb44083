import { describe, expect, it } from 'vitest';
import {
  clusterName,
  type Direction,
  gatewayHttpsRouteName,
  istioMtlsSni,
  parseClusterName,
} from './naming.ts';

describe('Istio resource names', () => {
  it.each([
    [
      'outbound',
      9080,
      'v1',
      'reviews.default.svc.cluster.local',
      'outbound|9080|v1|reviews.default.svc.cluster.local',
    ],
    [
      'outbound',
      9080,
      '',
      'reviews.default.svc.cluster.local',
      'outbound|9080||reviews.default.svc.cluster.local',
    ],
    ['inbound', 8080, '', '', 'inbound|8080||'],
  ] as [Direction, number, string, string, string][])(
    '%s %s %j %s -> %s',
    (direction, port, subset, hostname, name) => {
      expect(clusterName(direction, port, subset, hostname)).toBe(name);
      expect(parseClusterName(name)).toEqual({ direction, port, subset, hostname });
    },
  );

  it.each([['BlackHoleCluster'], ['outbound|x||h'], ['sideways|1||h'], ['outbound|1|h']])(
    'parseClusterName(%s) is undefined',
    (name) => {
      expect(parseClusterName(name)).toBeUndefined();
    },
  );

  it('names the mTLS SNI and gateway HTTPS routes as Istio does', () => {
    expect(istioMtlsSni(9080, 'v1', 'reviews.default.svc.cluster.local')).toBe(
      'outbound_.9080_.v1_.reviews.default.svc.cluster.local',
    );
    expect(gatewayHttpsRouteName(443, 'https', 'bookinfo-gateway', 'default')).toBe(
      'https.443.https.bookinfo-gateway.default',
    );
  });
});
