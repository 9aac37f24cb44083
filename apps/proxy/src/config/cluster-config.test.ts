import { describe, expect, it } from 'vitest';
import {
  clusterLoadAssignment,
  duration,
  edsCluster,
  http2ProtocolOptions,
  staticCluster,
} from '../testing/builders.ts';
import { compileCluster } from './cluster-config.ts';
import { compileClusterLoadAssignment } from './endpoint-config.ts';
import type { Body } from './problems.ts';

function problemsOf(body: Body): string[] {
  const result = compileCluster(body);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('compileCluster', () => {
  it('applies Envoy defaults to an EDS cluster', () => {
    const result = compileCluster(edsCluster('outbound|80||a', { connectTimeout: undefined }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      type: 'EDS',
      edsServiceName: 'outbound|80||a',
      lbPolicy: 'ROUND_ROBIN',
      connectTimeoutMs: 5000,
      circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
      healthyPanicThreshold: 50,
      http2: false,
    });
  });

  it('reads breakers, outlier detection, lb settings and HTTP/2 options', () => {
    const result = compileCluster(
      edsCluster('c', {
        lbPolicy: 'LEAST_REQUEST',
        edsClusterConfig: { serviceName: 'svc' },
        circuitBreakers: { thresholds: [{ maxRequests: { value: 7 }, maxRetries: { value: 1 } }] },
        outlierDetection: { consecutive_5xx: { value: 2 }, baseEjectionTime: duration(1500) },
        leastRequestLbConfig: { choiceCount: { value: 3 } },
        commonLbConfig: { localityWeightedLbConfig: {} },
        ...http2ProtocolOptions(),
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      edsServiceName: 'svc',
      lbPolicy: 'LEAST_REQUEST',
      circuitBreakers: { maxRequests: 7, maxRetries: 1, maxConnections: 1024 },
      outlierDetection: { consecutive5xx: 2, baseEjectionTimeMs: 1500, intervalMs: 10000 },
      leastRequestChoiceCount: 3,
      localityWeighted: true,
      http2: true,
    });
  });

  it.each([
    ['missing name', edsCluster(''), 'name: is required'],
    [
      'unknown lb policy',
      edsCluster('c', { lbPolicy: 'LOAD_BALANCING_POLICY_CONFIG' }),
      'lbPolicy: unsupported value',
    ],
    ['unknown type', edsCluster('c', { type: 'MAGIC' }), 'type: unsupported value'],
    [
      'negative timeout',
      edsCluster('c', { connectTimeout: { seconds: '-1' } }),
      'connectTimeout: must not be negative',
    ],
    [
      'DNS without endpoints',
      { name: 'c', type: 'STRICT_DNS' },
      'loadAssignment: is required for a STRICT_DNS cluster',
    ],
    [
      'CLUSTER_PROVIDED outside ORIGINAL_DST',
      edsCluster('c', { lbPolicy: 'CLUSTER_PROVIDED' }),
      'lbPolicy: unsupported value',
    ],
    [
      'maglev table not prime',
      edsCluster('c', { maglevLbConfig: { tableSize: { value: 100 } } }),
      'maglevLbConfig.tableSize',
    ],
    [
      'choice count < 2',
      edsCluster('c', { leastRequestLbConfig: { choiceCount: { value: 1 } } }),
      'choiceCount: must be >= 2',
    ],
    [
      'unreadable client certificate files',
      edsCluster('c', {
        transportSocket: {
          name: 'tls',
          typedConfig: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            commonTlsContext: {
              tlsCertificates: [
                {
                  certificateChain: { filename: '/nonexistent/cert.pem' },
                  privateKey: { inlineString: 'not pem' },
                },
              ],
            },
          },
        },
      }),
      'certificateChain.filename: cannot read /nonexistent/cert.pem: ENOENT',
    ],
    [
      'bad static endpoint',
      staticCluster('c', [{ address: 'not-an-ip', port: 80 }]),
      'loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address: must be an IP literal',
    ],
    [
      'bind config without a source address',
      edsCluster('c', { upstreamBindConfig: {} }),
      'upstreamBindConfig.sourceAddress: is required',
    ],
    [
      'source address a hostname',
      edsCluster('c', { upstreamBindConfig: { sourceAddress: { address: 'localhost' } } }),
      'upstreamBindConfig.sourceAddress.address: must be an IP literal, got "localhost"',
    ],
    [
      'fixed source port',
      edsCluster('c', { upstreamBindConfig: { sourceAddress: { address: '127.0.0.6', portValue: 4000 } } }),
      'upstreamBindConfig.sourceAddress.portValue: binding a fixed source port is not supported',
    ],
  ])('rejects %s', (_name, body, expected) => {
    expect(problemsOf(body).join('\n')).toContain(expected);
  });

  it.each([
    ['BlackHoleCluster', { name: 'BlackHoleCluster', type: 'STATIC', connectTimeout: duration(10000) }],
    [
      'PassthroughCluster',
      { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' },
    ],
  ])("accepts Istio's %s", (_name, body) => {
    expect(problemsOf(body)).toEqual([]);
  });

  it("reads upstreamBindConfig's source address (Istio's 127.0.0.6 on inbound clusters)", () => {
    const result = compileCluster(
      staticCluster('inbound|9080||', [{ address: '10.0.0.5', port: 9080 }], {
        upstreamBindConfig: { sourceAddress: { address: '127.0.0.6', portValue: 0 } },
      }),
    );
    expect(result.ok && result.value.sourceAddress).toBe('127.0.0.6');
    const plain = compileCluster(edsCluster('c'));
    expect(plain.ok && plain.value.sourceAddress).toBeUndefined();
  });

  it('collects every problem instead of stopping at the first', () => {
    const paths = problemsOf({ lbPolicy: 'X', connectTimeout: 'soon' }).map((p) => p.split(':')[0]);
    expect(paths).toEqual(['name', 'lbPolicy', 'connectTimeout']);
  });
});

describe('compileClusterLoadAssignment', () => {
  it('groups endpoints by priority and locality with health and weight', () => {
    const result = compileClusterLoadAssignment(
      clusterLoadAssignment('c', [
        { port: 1, zone: 'a' },
        { port: 2, zone: 'b', health: 'UNHEALTHY', weight: 3 },
        { port: 3, priority: 1 },
      ]),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.priorities).toHaveLength(2);
    expect(result.value.priorities[0]?.map((l) => l.locality.zone)).toEqual(['a', 'b']);
    expect(result.value.priorities[0]?.[1]?.endpoints[0]).toMatchObject({
      key: '127.0.0.1:2',
      health: 'UNHEALTHY',
      weight: 3,
    });
    expect(result.value.priorities[1]?.[0]?.endpoints[0]?.port).toBe(3);
  });

  it.each([
    [
      'duplicate endpoint',
      clusterLoadAssignment('c', [{ port: 1 }, { port: 1 }]),
      'duplicate endpoint 127.0.0.1:1',
    ],
    ['gap in priorities', clusterLoadAssignment('c', [{ port: 1, priority: 1 }]), 'priority 0 is missing'],
    ['missing cluster name', clusterLoadAssignment('', [{ port: 1 }]), 'clusterName: is required'],
    [
      'unknown health',
      clusterLoadAssignment('c', [{ port: 1, health: 'SICK' }]),
      'healthStatus: unsupported value',
    ],
  ])('rejects %s', (_name, body, expected) => {
    const result = compileClusterLoadAssignment(body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toContain(expected);
  });
});
