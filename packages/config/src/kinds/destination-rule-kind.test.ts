import { describe, expect, it } from 'vitest';
import { dr, errorsOf } from '../../test/kind-builders.ts';

describe('DestinationRule', () => {
  it.each([
    ['a wildcard host', { host: '*.example.com' }],
    [
      'subsets with labels',
      dr({
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
        ],
      }),
    ],
    ['TLS DISABLE', dr({ trafficPolicy: { tls: { mode: 'DISABLE' } } })],
    [
      'MUTUAL with a credentialName',
      dr({ trafficPolicy: { tls: { mode: 'MUTUAL', credentialName: 'client-cert' } } }),
    ],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('DestinationRule', spec)).toEqual([]);
  });

  it.each([
    ['no host', {}, 'spec.host: required'],
    [
      'an unknown load balancer',
      dr({ trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } }),
      'spec.trafficPolicy.loadBalancer.simple: unknown value "FASTEST"; expected one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST',
    ],
    [
      'simple and consistentHash',
      dr({ trafficPolicy: { loadBalancer: { simple: 'RANDOM', consistentHash: { useSourceIp: true } } } }),
      'spec.trafficPolicy.loadBalancer: only one of simple, consistentHash may be set',
    ],
    [
      'a consistentHash without key',
      dr({ trafficPolicy: { loadBalancer: { consistentHash: { ringHash: { minimumRingSize: 1024 } } } } }),
      'spec.trafficPolicy.loadBalancer.consistentHash: one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName must be set',
    ],
    [
      'distribute weights not summing to 100',
      dr({
        trafficPolicy: {
          loadBalancer: {
            localityLbSetting: { distribute: [{ from: 'a/*', to: { 'a/*': 60, 'b/*': 30 } }] },
          },
        },
      }),
      'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: weights must sum to 100, got 90',
    ],
    [
      'distribute and failover',
      dr({ trafficPolicy: { loadBalancer: { localityLbSetting: { distribute: [], failover: [] } } } }),
      'spec.trafficPolicy.loadBalancer.localityLbSetting: only one of distribute, failover may be set',
    ],
    [
      'an unknown TLS mode',
      dr({ trafficPolicy: { tls: { mode: 'STRICT' } } }),
      'spec.trafficPolicy.tls.mode: unknown value "STRICT"; expected one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL',
    ],
    [
      'MUTUAL without certificates',
      dr({ trafficPolicy: { tls: { mode: 'MUTUAL' } } }),
      'spec.trafficPolicy.tls: MUTUAL requires clientCertificate and privateKey, or credentialName',
    ],
    [
      'ISTIO_MUTUAL with certificates',
      dr({ trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL', caCertificates: '/x.pem' } } }),
      "spec.trafficPolicy.tls: ISTIO_MUTUAL uses the mesh's certificates: caCertificates must not be set",
    ],
    [
      'maxEjectionPercent above 100',
      dr({ trafficPolicy: { outlierDetection: { maxEjectionPercent: 150 } } }),
      'spec.trafficPolicy.outlierDetection.maxEjectionPercent: 150 out of range: must be in 0..100',
    ],
    [
      'zero maxConnections',
      dr({ trafficPolicy: { connectionPool: { tcp: { maxConnections: 0 } } } }),
      'spec.trafficPolicy.connectionPool.tcp.maxConnections: 0 out of range: must be in 1..2147483647',
    ],
    [
      'a port-level setting without port',
      dr({ trafficPolicy: { portLevelSettings: [{ loadBalancer: { simple: 'RANDOM' } }] } }),
      'spec.trafficPolicy.portLevelSettings[0].port: required',
    ],
    [
      'a port listed twice',
      dr({
        trafficPolicy: {
          portLevelSettings: [80, 80].map((number) => ({
            port: { number },
            loadBalancer: { simple: 'RANDOM' },
          })),
        },
      }),
      'spec.trafficPolicy.portLevelSettings[1].port.number: port 80 is listed twice',
    ],
    [
      'duplicate subset names',
      dr({ subsets: [{ name: 'v1' }, { name: 'v1' }] }),
      'spec.subsets[1].name: duplicate subset name "v1"',
    ],
    [
      'an uppercase subset name',
      dr({ subsets: [{ name: 'V1' }] }),
      'spec.subsets[0].name: subset name "V1" must be a DNS-1123 label',
    ],
    [
      'a subset without name',
      dr({ subsets: [{ labels: { version: 'v1' } }] }),
      'spec.subsets[0].name: required',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('DestinationRule', spec)).toContain(expected);
  });
});

describe('DestinationRule traffic policies, as Istio checks them', () => {
  it.each([
    ['an empty trafficPolicy', dr({ trafficPolicy: {} }), 'spec.trafficPolicy: must set at least one field'],
    [
      'an empty connectionPool',
      dr({ trafficPolicy: { connectionPool: {} } }),
      'spec.trafficPolicy.connectionPool: must set at least one of tcp, http',
    ],
    [
      'a port-level policy with only a port',
      dr({ trafficPolicy: { portLevelSettings: [{ port: { number: 80 } }] } }),
      'spec.trafficPolicy.portLevelSettings[0]: sets no policy for the port',
    ],
    [
      'a maglev table size that is not prime',
      dr({
        trafficPolicy: {
          loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 1000 } } },
        },
      }),
      'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: 1000 is not a prime number',
    ],
    [
      'h2 UPGRADE with useClientProtocol',
      dr({
        trafficPolicy: { connectionPool: { http: { h2UpgradePolicy: 'UPGRADE', useClientProtocol: true } } },
      }),
      'spec.trafficPolicy.connectionPool.http: useClientProtocol cannot be true with h2UpgradePolicy UPGRADE',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('DestinationRule', spec)).toContain(expected);
  });

  it('accepts a prime maglev table', () => {
    expect(
      errorsOf(
        'DestinationRule',
        dr({
          trafficPolicy: {
            loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } },
          },
        }),
      ),
    ).toEqual([]);
  });
});
