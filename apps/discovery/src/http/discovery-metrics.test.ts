import { createMetrics } from '@weft/telemetry';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { createDiscoveryMetrics, typeLabel } from './discovery-metrics.ts';

describe('createDiscoveryMetrics', () => {
  it('exposes pushes, push time, NACKs, connected proxies and config problems', async () => {
    const registry = createMetrics({ serviceName: 'test' });
    let proxies = 2;
    const metrics = createDiscoveryMetrics(registry, {
      connectedProxies: () => proxies,
      configProblems: () => 1,
    });
    metrics.recordPushes(CLUSTER_TYPE_URL, 3);
    metrics.recordPushes(ENDPOINT_TYPE_URL, 1);
    metrics.recordPushDuration(0.003);
    metrics.recordNack(CLUSTER_TYPE_URL);
    proxies = 5;
    const text = await registry.scrape();
    expect(text).toMatch(/weft_discovery_pushes_total\{type="cds"\} 3/);
    expect(text).toMatch(/weft_discovery_pushes_total\{type="eds"\} 1/);
    expect(text).toMatch(/weft_discovery_push_duration_seconds_bucket\{le="0.005"\} 1/);
    expect(text).toMatch(/weft_discovery_push_duration_seconds_bucket\{le="0.001"\} 0/);
    expect(text).toMatch(/weft_discovery_nacks_total\{type="cds"\} 1/);
    expect(text).toMatch(/weft_discovery_connected_proxies 5/);
    expect(text).toMatch(/weft_discovery_config_problems 1/);
    await registry.shutdown();
  });

  it.each([
    [CLUSTER_TYPE_URL, 'cds'],
    ['type.googleapis.com/some.Other', 'type.googleapis.com/some.Other'],
  ])('labels %s as %s', (typeUrl, label) => {
    expect(typeLabel(typeUrl)).toBe(label);
  });
});
