/**
 * The discovery server's Prometheus metrics, named as Istio's pilot metrics
 * are but under `weft_discovery_`:
 *
 * - `weft_discovery_pushes_total{type}`: snapshots set per xDS type (a proxy
 *   whose `type` resources changed in a push counts once).
 * - `weft_discovery_push_duration_seconds`: histogram of whole-push time
 *   (new push context through the last snapshot set).
 * - `weft_discovery_connected_proxies`: proxies with an open ADS stream.
 * - `weft_discovery_nacks_total{type}`: NACKs received.
 * - `weft_discovery_config_problems`: config objects currently rejected.
 *
 * `type` is the lowercase short name: `lds`, `rds`, `cds`, `eds`, `sds`.
 */
import type { MetricsRegistry } from '@weft/telemetry';
import { TYPE_SHORT_NAMES, type TypeUrl } from '@weft/xds';

export interface DiscoveryMetrics {
  /** Adds `count` pushes of `typeUrl`. */
  recordPushes(typeUrl: TypeUrl, count: number): void;
  recordPushDuration(seconds: number): void;
  recordNack(typeUrl: string): void;
}

export interface DiscoveryGauges {
  connectedProxies(): number;
  configProblems(): number;
}

/** Push-duration buckets in seconds: pushes take milliseconds on small meshes, seconds on huge ones. */
const PUSH_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The metric label for a type URL: `cds` for the Cluster type, the URL itself for unknown types. */
export function typeLabel(typeUrl: string): string {
  const short = (TYPE_SHORT_NAMES as Readonly<Record<string, string>>)[typeUrl];
  return short === undefined ? typeUrl : short.toLowerCase();
}

/** Creates the instruments on `registry`. Call once per registry. */
export function createDiscoveryMetrics(registry: MetricsRegistry, gauges: DiscoveryGauges): DiscoveryMetrics {
  const meter = registry.meter;
  const pushes = meter.createCounter('weft_discovery_pushes_total', {
    description: 'Snapshots set for connected proxies, by xDS type',
  });
  const pushDuration = meter.createHistogram('weft_discovery_push_duration_seconds', {
    description: 'Time to compute a push context and every changed proxy snapshot',
    unit: 's',
    advice: { explicitBucketBoundaries: PUSH_DURATION_BUCKETS },
  });
  const nacks = meter.createCounter('weft_discovery_nacks_total', {
    description: 'xDS NACKs received from proxies, by xDS type',
  });
  meter
    .createObservableGauge('weft_discovery_connected_proxies', {
      description: 'Proxies with an open ADS stream',
    })
    .addCallback((result) => result.observe(gauges.connectedProxies()));
  meter
    .createObservableGauge('weft_discovery_config_problems', {
      description: 'Config objects currently rejected by validation',
    })
    .addCallback((result) => result.observe(gauges.configProblems()));
  return {
    recordPushes: (typeUrl, count) => pushes.add(count, { type: typeLabel(typeUrl) }),
    recordPushDuration: (seconds) => pushDuration.record(seconds),
    recordNack: (typeUrl) => nacks.add(1, { type: typeLabel(typeUrl) }),
  };
}
